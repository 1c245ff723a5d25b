// The etcd server binary, built from its Go module: the root etcd module
// cannot be `go install`ed, so this tiny main calls the server's own entry
// point. tools/k8s/build.sh copies it into a throwaway build module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
