//! Values of Terraform expressions, with where they were written.

use crate::parse::{Entry, Node, Origin, Pos, Value};
use std::collections::BTreeMap;

/// Which source file a value was written in (an index into the module's files).
pub type FileId = u32;

/// A value and the place that wrote it.
#[derive(Clone, Debug, PartialEq)]
pub struct V {
    /// Where the expression (or the literal key inside a decoded document) is.
    pub pos: Pos,
    /// The file `pos` is in.
    pub file: FileId,
    /// The value.
    pub val: Val,
    /// An object whose other attributes are known only after apply (a resource, a data
    /// source): reading an attribute it does not have gives unknown, not an error.
    pub open: bool,
    /// A map some of whose keys may be absent: a `{for … : k => v if cond}` whose `if`
    /// is unknown for them. Those keys hold unknown values (absent or a value: unknown
    /// either way), so what it holds can still be read; its key set is unknown, so its
    /// length, keys, values and iteration are.
    pub partial: bool,
}

/// A Terraform value. Objects and maps are one kind, lists, tuples and sets another: the
/// policies read values, not types.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Num(f64),
    /// A string.
    Str(String),
    /// A string produced by encoding a value (`jsonencode`, a JSON heredoc, `file()` of a
    /// JSON file): the decoded document is kept with its positions, so a policy built
    /// with `jsonencode` points at its own lines. The text is `None` when part of the
    /// document is unknown.
    Encoded(Option<String>, Box<V>),
    /// A list, tuple or set.
    List(Vec<V>),
    /// An object or map: keys in lexical order, as Terraform iterates them, with the
    /// position of each key.
    Map(BTreeMap<String, (Pos, V)>),
    /// Not knowable without providers or apply.
    Unknown,
}

impl V {
    /// A value at a position.
    pub fn new(pos: Pos, file: FileId, val: Val) -> Self {
        V {
            pos,
            file,
            val,
            open: false,
            partial: false,
        }
    }

    /// The value as used at `pos` in `file`. A value written in another file is reported
    /// where it is used; the keys of a map written there keep their positions, marked
    /// with their file, for [`V::to_node_tracing`] to keep or move to the use. What the
    /// value holds keeps its own file.
    pub fn used_at(mut self, pos: Pos, file: FileId) -> V {
        if self.file != file {
            if let Val::Map(m) = &mut self.val {
                let origin = Origin::from_index(self.file);
                for (kpos, _) in m.values_mut() {
                    if !kpos.origin.is_some() {
                        *kpos = kpos.in_file(origin);
                    }
                }
            }
            self.file = file;
        }
        self.pos = pos;
        self
    }

    /// Whether the value, or anything inside it, is unknown.
    pub fn has_unknown(&self) -> bool {
        match &self.val {
            Val::Unknown => true,
            Val::List(items) => items.iter().any(V::has_unknown),
            Val::Map(m) => m.values().any(|(_, v)| v.has_unknown()),
            Val::Encoded(text, _) => text.is_none(),
            _ => false,
        }
    }

    /// The string, for strings and encoded strings with known text.
    pub fn as_str(&self) -> Option<&str> {
        match &self.val {
            Val::Str(s) => Some(s),
            Val::Encoded(Some(s), _) => Some(s),
            _ => None,
        }
    }

    /// Converts to a [`Node`] for the extractors. Positions from another file than
    /// `file` are replaced by the nearest enclosing position in `file` (a value that a
    /// variable in `variables.tf` supplies is reported where it is used). Encoded
    /// strings become their decoded document: extractors read a policy or container
    /// definitions as a document, whether written as JSON text or not.
    pub fn to_node(&self, file: FileId, fallback: Pos) -> Node {
        self.to_node_tracing(file, fallback, &|_| false)
    }

    /// As [`V::to_node`], but a position in a file that `keep` accepts (another
    /// module's) stays where it was written, marked with its file, rather than moving
    /// to where `file` uses it: a finding then points at the line a person changes.
    pub fn to_node_tracing(
        &self,
        file: FileId,
        fallback: Pos,
        keep: &dyn Fn(Origin) -> bool,
    ) -> Node {
        let own = Origin::from_index(self.file);
        let pos = if self.file == file {
            self.pos
        } else if keep(own) {
            self.pos.in_file(own)
        } else {
            fallback
        };
        let value = match &self.val {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Num(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Value::Int(*n as i64),
            Val::Num(n) => Value::Float(*n),
            Val::Str(s) => Value::Str(s.clone()),
            Val::Encoded(_, doc) => return doc.to_node_tracing(file, pos, keep),
            Val::List(items) => Value::Seq(
                items
                    .iter()
                    .map(|i| i.to_node_tracing(file, pos, keep))
                    .collect(),
            ),
            Val::Map(m) => Value::Map(
                m.iter()
                    .map(|(k, (kpos, v))| Entry {
                        key: k.clone(),
                        // A key is written where its map is (or, for a map used in
                        // another file, where its own mark says).
                        key_pos: if kpos.origin.index() == file {
                            kpos.in_file(Origin::NONE)
                        } else if kpos.origin.is_some() {
                            if keep(kpos.origin) {
                                *kpos
                            } else {
                                pos
                            }
                        } else if self.file == file {
                            *kpos
                        } else if keep(own) {
                            kpos.in_file(own)
                        } else {
                            pos
                        },
                        value: v.to_node_tracing(file, pos, keep),
                    })
                    .collect(),
            ),
            Val::Unknown => Value::Unknown,
        };
        Node::new(pos, value)
    }

    /// A value from a parsed JSON or YAML node (a `file()`d document, a heredoc), with
    /// positions moved by `offset` lines.
    pub fn from_node(node: &Node, file: FileId, line_offset: u32) -> V {
        let pos = Pos::new(node.pos.line + line_offset, node.pos.column);
        let val = match &node.value {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Int(i) => Val::Num(*i as f64),
            Value::Float(f) => Val::Num(*f),
            Value::Str(s) => Val::Str(s.clone()),
            Value::Seq(items) => Val::List(
                items
                    .iter()
                    .map(|i| V::from_node(i, file, line_offset))
                    .collect(),
            ),
            Value::Map(entries) => Val::Map(
                entries
                    .iter()
                    .map(|e| {
                        let kpos = Pos::new(e.key_pos.line + line_offset, e.key_pos.column);
                        (
                            e.key.clone(),
                            (kpos, V::from_node(&e.value, file, line_offset)),
                        )
                    })
                    .collect(),
            ),
            Value::Unknown => Val::Unknown,
        };
        V::new(pos, file, val)
    }

    /// The type name Terraform would print, for error messages.
    pub fn type_name(&self) -> &'static str {
        match &self.val {
            Val::Null => "null",
            Val::Bool(_) => "bool",
            Val::Num(_) => "number",
            Val::Str(_) | Val::Encoded(..) => "string",
            Val::List(_) => "list",
            Val::Map(_) => "object",
            Val::Unknown => "unknown",
        }
    }
}

/// Formats a number the way Terraform prints it (`3`, not `3.0`).
pub fn format_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_positions_fall_back_to_the_use() {
        let inner = V::new(Pos::new(9, 9), 1, Val::Str("x".into()));
        let list = V::new(Pos::new(3, 5), 0, Val::List(vec![inner]));
        let node = list.to_node(0, Pos::new(1, 1));
        assert_eq!(node.pos, Pos::new(3, 5));
        assert_eq!(node.items()[0].pos, Pos::new(3, 5));
        let node = list.to_node(1, Pos::new(1, 1));
        assert_eq!(node.pos, Pos::new(1, 1));
        assert_eq!(node.items()[0].pos, Pos::new(9, 9));
    }

    #[test]
    fn a_map_used_in_another_file_has_its_keys_there() {
        let inner = V::new(Pos::new(9, 9), 1, Val::Str("x".into()));
        let map = V::new(
            Pos::new(8, 1),
            1,
            Val::Map(BTreeMap::from([("k".to_string(), (Pos::new(9, 3), inner))])),
        );
        let used = map.clone().used_at(Pos::new(2, 5), 0);
        let node = used.to_node(0, Pos::new(1, 1));
        assert_eq!(node.pos, Pos::new(2, 5));
        assert_eq!(node.entries()[0].key_pos, Pos::new(2, 5));
        // Used in its own file, a map keeps its key positions.
        let same = map.used_at(Pos::new(3, 1), 1).to_node(1, Pos::new(1, 1));
        assert_eq!(same.entries()[0].key_pos, Pos::new(9, 3));
    }

    #[test]
    fn encoded_strings_become_documents() {
        let doc = V::new(
            Pos::new(4, 3),
            0,
            Val::Map(BTreeMap::from([(
                "Action".to_string(),
                (
                    Pos::new(5, 5),
                    V::new(Pos::new(5, 15), 0, Val::Str("*".into())),
                ),
            )])),
        );
        let s = V::new(Pos::new(4, 1), 0, Val::Encoded(None, Box::new(doc)));
        let n = s.to_node(0, Pos::new(1, 1));
        assert_eq!(n.entry("Action").unwrap().key_pos, Pos::new(5, 5));
        assert_eq!(format_num(3.0), "3");
        assert_eq!(format_num(0.5), "0.5");
    }
}
