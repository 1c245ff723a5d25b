// Differential oracle for crates/model/src/calico: reads JSON strings (one per line) and
// prints, for each, what Calico's own selector parser makes of it: whether it parses, its
// canonical String(), and its evaluation over fixed label sets (the same sets, in the same
// order, as LABEL_SETS in ../oracle_tests.rs). See README.md for how to build and run it.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/projectcalico/calico/libcalico-go/lib/selector/parser"
)

var labelSets = []map[string]string{
	{},
	{"a": "x"},
	{"a": "y"},
	{"a": ""},
	{"b": "x"},
	{"a": "x", "b": "y"},
	{"a": "xy", "b": "x", "c": "z"},
	{"a": "y", "b": "y", "c": "y"},
	{"c": "x"},
	{"a": "yx", "c": ""},
}

type out struct {
	In    string `json:"in"`
	Ok    bool   `json:"ok"`
	Canon string `json:"canon,omitempty"`
	Eval  string `json:"eval,omitempty"`
}

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for sc.Scan() {
		var s string
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			fmt.Fprintln(os.Stderr, "bad line:", err)
			os.Exit(2)
		}
		o := out{In: s}
		sel, err := parser.Parse(s)
		verr := parser.Validate(s)
		if (err == nil) != (verr == nil) {
			fmt.Fprintln(os.Stderr, "Parse and Validate disagree on", s)
			os.Exit(3)
		}
		if err == nil {
			o.Ok = true
			o.Canon = sel.String()
			bits := make([]byte, len(labelSets))
			for i, ls := range labelSets {
				if sel.Evaluate(ls) {
					bits[i] = '1'
				} else {
					bits[i] = '0'
				}
			}
			o.Eval = string(bits)
		}
		enc.Encode(o)
	}
}
