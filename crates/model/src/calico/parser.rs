//! Calico's selector parser (`libcalico-go/lib/selector/parser/parser.go`), with
//! errors that point at a byte.
//!
//! Grammar, as Calico parses it (the whole input is tokenized first, so a
//! tokenizer error anywhere wins over a parse error):
//!
//! ```text
//! selector  := <nothing> | or EOF             -- nothing (or only blanks) is all()
//! or        := and ( "||" and )*              -- || binds loosest
//! and       := operation ( "&&" operation )*
//! operation := "!"* ( has(k) | all() | global()
//!                   | k ("==" | "!=" | contains | starts with | ends with) STRING
//!                   | k (in | not in) "{" ( STRING ( "," STRING )* ","? )? "}"
//!                   | "(" or ")" )
//! ```
//!
//! So `!` binds tighter than `&&`: `!a == 'x' && b == 'y'` is `(!(a == 'x')) && b == 'y'`;
//! an even run of `!` cancels out; a set may be empty (`k in {}`) and may end with a
//! comma (`k in {'a',}`).
//!
//! Calico parses by recursive descent; this parser keeps an explicit stack of open
//! parentheses instead, so no input can exhaust the thread's stack while parsing.

use super::ast::{CompareOp, Node, SetOp};
use super::lexer::{tokenize, Kind, Token};
use super::SelectorError;

/// Trees deeper than this are rejected (Calico has no limit). Calico's CRDs cap
/// every selector field at 1024 bytes, which cannot build a tree deeper than ~340
/// (`!(!(!(...)))`), so every selector the API server accepts parses here. The limit
/// keeps evaluating, printing, comparing and dropping a tree (all recursive) far from
/// the stack's end; since the canonical text nests parentheses at most as deep as
/// the tree, it always parses back. Parentheses alone (`((all()))`) add no depth.
pub(super) const MAX_DEPTH: usize = 512;

pub(super) fn parse(src: &str) -> Result<Node, SelectorError> {
    let tokens = tokenize(src)?;
    let mut parser = Parser { src, tokens, pos: 0 };
    if parser.peek().kind == Kind::Eof {
        return Ok(Node::All);
    }
    parser.run()
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token<'a>>,
    pos: usize,
}

/// A parsed operand: its tree, the tree's depth (a leaf is 1), and where it starts.
struct Operand {
    node: Node,
    depth: usize,
    at: usize,
}

/// One level of parentheses (or the whole selector): the `||` operands so far, the
/// `&&` operands of the current `||` operand, and what applies when it closes.
struct Group<'a> {
    /// The `(`; `None` for the whole selector.
    open: Option<Token<'a>>,
    /// An odd run of `!` stood before the `(`.
    negated: bool,
    /// Where the operation (with its `!`s) starts.
    at: usize,
    ors: Vec<Operand>,
    ands: Vec<Operand>,
}

impl<'a> Group<'a> {
    fn new(open: Option<Token<'a>>, negated: bool, at: usize) -> Self {
        Group { open, negated, at, ors: Vec::new(), ands: Vec::new() }
    }

    /// Folds the pending `&&` operands into one `||` operand.
    fn close_and(&mut self) -> Result<(), SelectorError> {
        let and = combine(std::mem::take(&mut self.ands), Node::And)?;
        self.ors.extend(and);
        Ok(())
    }

    /// The group's tree: `a`, `(a && b)`, `(a || b && c)`...
    fn finish(mut self) -> Result<Option<Operand>, SelectorError> {
        self.close_and()?;
        combine(self.ors, Node::Or)
    }
}

/// One operand alone, or `make` of two or more (as Calico: a single operand is not wrapped).
fn combine(mut operands: Vec<Operand>, make: fn(Vec<Node>) -> Node) -> Result<Option<Operand>, SelectorError> {
    if operands.len() <= 1 {
        return Ok(operands.pop());
    }
    let depth = operands.iter().map(|o| o.depth).max().unwrap_or(0);
    let at = operands[0].at;
    let node = make(operands.into_iter().map(|o| o.node).collect());
    deeper(node, depth, at).map(Some)
}

/// `node` over children `depth` deep, unless that is too deep.
fn deeper(node: Node, depth: usize, at: usize) -> Result<Operand, SelectorError> {
    if depth >= MAX_DEPTH {
        return Err(SelectorError::new(at, format!("expression nested more than {MAX_DEPTH} deep")));
    }
    Ok(Operand { node, depth: depth + 1, at })
}

fn negate(operand: Operand, negated: bool, at: usize) -> Result<Operand, SelectorError> {
    if !negated {
        return Ok(Operand { at, ..operand });
    }
    deeper(Node::Not(Box::new(operand.node)), operand.depth, at)
}

impl<'a> Parser<'a> {
    /// The token `ahead` places on; the final EOF once past the end.
    fn look(&self, ahead: usize) -> Token<'a> {
        let last = self.tokens.len().saturating_sub(1);
        self.tokens[(self.pos + ahead).min(last)]
    }

    fn peek(&self) -> Token<'a> {
        self.look(0)
    }

    /// Calico's `parseOrExpression`, `parseAndExpression` and `parseOperation`, with
    /// the open parentheses on `outer` instead of the call stack.
    fn run(&mut self) -> Result<Node, SelectorError> {
        let mut group = Group::new(None, false, 0);
        let mut outer: Vec<Group<'a>> = Vec::new();
        loop {
            // An operation: `!`s, then a leaf or a `(`.
            let at = self.peek().at;
            let mut negated = false;
            while self.peek().kind == Kind::Not {
                negated = !negated;
                self.pos += 1;
            }
            let tok = self.peek();
            let leaf = match tok.kind {
                Kind::Has(key) => {
                    self.pos += 1;
                    Node::Has(key.to_string())
                }
                Kind::All => {
                    self.pos += 1;
                    Node::All
                }
                Kind::Global => {
                    self.pos += 1;
                    Node::Global
                }
                Kind::Label(key) => self.label_operation(key)?,
                Kind::LParen => {
                    self.pos += 1;
                    outer.push(std::mem::replace(&mut group, Group::new(Some(tok), negated, at)));
                    continue;
                }
                _ => return Err(self.expected_expression(tok)),
            };
            let mut operand = negate(Operand { node: leaf, depth: 1, at }, negated, at)?;
            // After an operation: `&&`, `||`, or the end of its group.
            loop {
                group.ands.push(operand);
                match self.peek().kind {
                    Kind::And => {
                        self.pos += 1;
                        break;
                    }
                    Kind::Or => {
                        self.pos += 1;
                        group.close_and()?;
                        break;
                    }
                    _ => {}
                }
                let Some(parent) = outer.pop() else {
                    let next = self.peek();
                    if next.kind != Kind::Eof {
                        return Err(self.trailing(next));
                    }
                    return Ok(group.finish()?.map_or(Node::All, |o| o.node));
                };
                let done = std::mem::replace(&mut group, parent);
                let close = self.peek();
                if close.kind != Kind::RParen {
                    return Err(self.unclosed_paren(done.open.unwrap_or(close), close));
                }
                self.pos += 1;
                let (negated, at) = (done.negated, done.at);
                let Some(inner) = done.finish()? else { return Err(self.expected_expression(close)) };
                operand = negate(inner, negated, at)?;
            }
        }
    }

    /// `key` then an operator and its operand.
    fn label_operation(&mut self, key: &str) -> Result<Node, SelectorError> {
        let op_tok = self.look(1);
        let operand = self.look(2);
        let compare = match op_tok.kind {
            Kind::Eq => CompareOp::Eq,
            Kind::Ne => CompareOp::Ne,
            Kind::Contains => CompareOp::Contains,
            Kind::StartsWith => CompareOp::StartsWith,
            Kind::EndsWith => CompareOp::EndsWith,
            Kind::In | Kind::NotIn => {
                let op = if op_tok.kind == Kind::In { SetOp::In } else { SetOp::NotIn };
                return self.set(key, op, operand);
            }
            _ => return Err(self.expected_operator(key, op_tok)),
        };
        let Kind::Str(value) = operand.kind else {
            return Err(self.expected_string(key, compare, operand));
        };
        self.pos += 3;
        Ok(Node::Compare(key.to_string(), compare, value.to_string()))
    }

    /// `{ 'a', 'b' }` after `key in` / `key not in`; `open` is the token after the operator.
    fn set(&mut self, key: &str, op: SetOp, open: Token<'a>) -> Result<Node, SelectorError> {
        let op_text = op.as_str();
        if open.kind != Kind::LBrace {
            let err =
                SelectorError::new(open.at, format!("expected `{{` after `{op_text}`, found {}", self.describe(open)));
            return Err(match open.kind {
                Kind::Str(v) | Kind::Label(v) => {
                    err.hint(format!("put the values in braces: `{key} {op_text} {{'{v}'}}`"))
                }
                Kind::LParen => err.hint(format!("use braces, not parentheses: `{key} {op_text} {{'a', 'b'}}`")),
                _ => err.hint(format!("write the values in braces: `{key} {op_text} {{'a', 'b'}}`")),
            });
        }
        self.pos += 3;
        let mut values = Vec::new();
        let mut after_value = false;
        while let Kind::Str(value) = self.peek().kind {
            values.push(value.to_string());
            self.pos += 1;
            if self.peek().kind != Kind::Comma {
                after_value = true;
                break;
            }
            self.pos += 1;
        }
        let close = self.peek();
        if close.kind != Kind::RBrace {
            return Err(self.unclosed_set(open, close, after_value));
        }
        self.pos += 1;
        values.sort_unstable();
        values.dedup();
        Ok(Node::Set(key.to_string(), op, values))
    }

    fn describe(&self, tok: Token<'_>) -> String {
        if tok.kind == Kind::Eof {
            return "the end of the selector".to_string();
        }
        let text = &self.src[tok.at..tok.end];
        match text.char_indices().nth(40) {
            Some((cut, _)) => format!("`{}...`", &text[..cut]),
            None => format!("`{text}`"),
        }
    }

    fn expected_operator(&self, key: &str, tok: Token<'_>) -> SelectorError {
        if tok.kind == Kind::LParen {
            let err = SelectorError::new(self.peek().at, format!("unknown function `{key}()`"));
            let lower = key.to_ascii_lowercase();
            return match lower.as_str() {
                "has" | "all" | "global" if key != lower => {
                    err.hint(format!("function names are lower-case: `{lower}(`"))
                }
                "has" | "all" | "global" => err.hint(format!("write `{key}(` with no space before the `(`")),
                _ => err.hint("Calico's functions are `all()`, `global()` and `has(key)`"),
            };
        }
        let err = SelectorError::new(
            tok.at,
            format!("expected an operator after label `{key}`, found {}", self.describe(tok)),
        );
        match tok.kind {
            Kind::Eof | Kind::And | Kind::Or | Kind::RParen if key == "all" || key == "global" => {
                err.hint(format!("call it: `{key}()`"))
            }
            Kind::Eof | Kind::And | Kind::Or | Kind::RParen => {
                err.hint(format!("to test that the label exists, write `has({key})`"))
            }
            Kind::Str(v) => err.hint(format!("add an operator: `{key} == '{v}'`")),
            _ => err.hint("Calico's operators are `==`, `!=`, `in`, `not in`, `contains`, `starts with`, `ends with`"),
        }
    }

    fn expected_string(&self, key: &str, op: CompareOp, tok: Token<'_>) -> SelectorError {
        let op_text = op.as_str();
        let err = SelectorError::new(
            tok.at,
            format!("expected a quoted string after `{op_text}`, found {}", self.describe(tok)),
        );
        match tok.kind {
            Kind::Label(v) => err.hint(format!("quote the value: `{key} {op_text} '{v}'`")),
            Kind::LBrace if op == CompareOp::Eq => {
                err.hint(format!("to match one of several values, write `{key} in {{...}}`"))
            }
            Kind::LBrace if op == CompareOp::Ne => {
                err.hint(format!("to match none of several values, write `{key} not in {{...}}`"))
            }
            _ => err.hint(format!("for example `{key} {op_text} 'value'`")),
        }
    }

    fn unclosed_set(&self, open: Token<'_>, found: Token<'_>, after_value: bool) -> SelectorError {
        if found.kind == Kind::Eof {
            return SelectorError::new(
                found.at,
                format!("unbalanced brace: the `{{` at byte {} is never closed", open.at),
            )
            .hint("close the set with `}`");
        }
        if after_value {
            let err = SelectorError::new(
                found.at,
                format!("expected `,` or `}}` in the set, found {}", self.describe(found)),
            );
            return if matches!(found.kind, Kind::Str(_)) { err.hint("separate the values with commas") } else { err };
        }
        let err = SelectorError::new(
            found.at,
            format!("expected a quoted string or `}}` in the set, found {}", self.describe(found)),
        );
        match found.kind {
            Kind::Label(v) => err.hint(format!("quote the value: `'{v}'`")),
            _ => err,
        }
    }

    fn unclosed_paren(&self, open: Token<'_>, found: Token<'_>) -> SelectorError {
        if found.kind == Kind::Eof {
            return SelectorError::new(
                found.at,
                format!("unbalanced parenthesis: the `(` at byte {} is never closed", open.at),
            )
            .hint("add `)`");
        }
        let err = SelectorError::new(
            found.at,
            format!("expected `)` to close the `(` at byte {}, found {}", open.at, self.describe(found)),
        );
        if starts_expression(found.kind) {
            err.hint("join expressions with `&&` or `||`")
        } else {
            err
        }
    }

    fn expected_expression(&self, tok: Token<'_>) -> SelectorError {
        let before = self.pos.checked_sub(1).map(|i| self.tokens[i].kind);
        let err = SelectorError::new(tok.at, format!("expected an expression, found {}", self.describe(tok)));
        match (before, tok.kind) {
            (Some(Kind::And | Kind::Or), Kind::Eof) => {
                err.hint("remove the trailing operator, or add an expression after it")
            }
            (Some(Kind::LParen), Kind::RParen) => err.hint("`()` is empty: write `all()` to match everything"),
            (_, Kind::Str(_)) => err.hint("the label key comes first and is not quoted: `key == 'value'`"),
            _ => err,
        }
    }

    fn trailing(&self, tok: Token<'_>) -> SelectorError {
        if tok.kind == Kind::RParen {
            return SelectorError::new(tok.at, "unbalanced parenthesis: this `)` has no matching `(`")
                .hint("remove it, or add the `(` it closes");
        }
        let err = SelectorError::new(tok.at, format!("unexpected {} after a complete expression", self.describe(tok)));
        if starts_expression(tok.kind) {
            err.hint("join expressions with `&&` or `||`")
        } else {
            err
        }
    }
}

fn starts_expression(kind: Kind<'_>) -> bool {
    matches!(kind, Kind::Label(_) | Kind::Has(_) | Kind::All | Kind::Global | Kind::Not | Kind::LParen)
}
