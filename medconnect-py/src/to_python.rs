//! Serde values as Python objects, the way pythonize makes them (structs and maps as dicts,
//! sequences as lists, tuples as tuples, unit variants as their name, other variants as
//! `{variant: value}`, `None` for unit), but with Python strings made once per process:
//! struct field names always, and string values when the answer is drawn from a fixed
//! vocabulary (the interaction thesaurus's names, classes and texts). Making a Python string
//! decodes and copies its UTF-8; an interaction report carries ~300 of them, mostly French
//! texts, and reusing them is what brings a check from Python under the cost of pythonize.

use std::fmt;
use std::sync::{Mutex, OnceLock};

use pyo3::IntoPyObjectExt;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use rustc_hash::FxHashMap;
use serde::ser::{self, Serialize};

/// Strings reused across answers. Values are kept up to a bound and the map starts again
/// when full, so free text that passes through (a drug name as typed) cannot grow it; the
/// bound also caps what colliding keys could cost, so the fast FxHash serves (SipHash was a
/// quarter of a check's time).
#[derive(Default)]
struct Strings {
    /// Field and variant names, by address and length: they are `&'static str`.
    names: FxHashMap<(usize, usize), Py<PyString>>,
    values: FxHashMap<Box<str>, Py<PyString>>,
}

const VALUES_KEPT: usize = 4096;
/// Longer values are made each time: too rare to be worth keeping.
const VALUE_LEN_KEPT: usize = 1024;

fn strings() -> &'static Mutex<Strings> {
    static STRINGS: OnceLock<Mutex<Strings>> = OnceLock::new();
    STRINGS.get_or_init(Mutex::default)
}

/// Whether string values are reused (answers from a fixed vocabulary) or made each time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Values {
    Reused,
    Fresh,
}

/// `value` as Python objects.
pub fn to_python<'py, T: Serialize + ?Sized>(
    py: Python<'py>,
    value: &T,
    values: Values,
) -> PyResult<Bound<'py, PyAny>> {
    // The GIL is held for the whole conversion, so the lock is never contended; a poisoned
    // one only means an earlier conversion panicked, and its maps are still sound.
    let mut guard = strings().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut converter = Converter { py, strings: &mut guard, values };
    value.serialize(&mut converter).map_err(|e| e.0)
}

struct Converter<'a, 'py> {
    py: Python<'py>,
    strings: &'a mut Strings,
    values: Values,
}

impl<'py> Converter<'_, 'py> {
    fn name(&mut self, name: &'static str) -> Bound<'py, PyString> {
        let py = self.py;
        self.strings
            .names
            .entry((name.as_ptr() as usize, name.len()))
            .or_insert_with(|| PyString::new(py, name).unbind())
            .bind(py)
            .clone()
    }

    fn value(&mut self, text: &str) -> Bound<'py, PyString> {
        if self.values == Values::Fresh || text.len() > VALUE_LEN_KEPT {
            return PyString::new(self.py, text);
        }
        if let Some(kept) = self.strings.values.get(text) {
            return kept.bind(self.py).clone();
        }
        let made = PyString::new(self.py, text);
        if self.strings.values.len() >= VALUES_KEPT {
            self.strings.values.clear();
        }
        self.strings.values.insert(text.into(), made.clone().unbind());
        made
    }

    fn variant(&mut self, variant: &'static str, value: Bound<'py, PyAny>) -> Result<Bound<'py, PyAny>, Error> {
        let dict = PyDict::new(self.py);
        dict.set_item(self.name(variant), value)?;
        Ok(dict.into_any())
    }
}

/// A Python exception met while converting.
#[derive(Debug)]
pub struct Error(PyErr);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(PyValueError::new_err(msg.to_string()))
    }
}

impl From<PyErr> for Error {
    fn from(err: PyErr) -> Self {
        Error(err)
    }
}

type Out<'py> = Result<Bound<'py, PyAny>, Error>;

fn any<'py, T: IntoPyObject<'py>>(py: Python<'py>, value: T) -> Out<'py> {
    value.into_bound_py_any(py).map_err(Error)
}

impl<'a, 'b, 'py> ser::Serializer for &'a mut Converter<'b, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    type SerializeSeq = Items<'a, 'b, 'py>;
    type SerializeTuple = Items<'a, 'b, 'py>;
    type SerializeTupleStruct = Items<'a, 'b, 'py>;
    type SerializeTupleVariant = Items<'a, 'b, 'py>;
    type SerializeMap = Entries<'a, 'b, 'py>;
    type SerializeStruct = Entries<'a, 'b, 'py>;
    type SerializeStructVariant = Entries<'a, 'b, 'py>;

    fn serialize_bool(self, v: bool) -> Out<'py> {
        any(self.py, v)
    }
    fn serialize_i8(self, v: i8) -> Out<'py> {
        any(self.py, v)
    }
    fn serialize_i16(self, v: i16) -> Out<'py> {
        any(self.py, v)
    }
    fn serialize_i32(self, v: i32) -> Out<'py> {
        any(self.py, v)
    }
    fn serialize_i64(self, v: i64) -> Out<'py> {
        any(self.py, v)
    }
    fn serialize_i128(self, v: i128) -> Out<'py> {
        any(self.py, v)
    }
    fn serialize_u8(self, v: u8) -> Out<'py> {
        any(self.py, v)
    }
    fn serialize_u16(self, v: u16) -> Out<'py> {
        any(self.py, v)
    }
    fn serialize_u32(self, v: u32) -> Out<'py> {
        any(self.py, v)
    }
    fn serialize_u64(self, v: u64) -> Out<'py> {
        any(self.py, v)
    }
    fn serialize_u128(self, v: u128) -> Out<'py> {
        any(self.py, v)
    }
    fn serialize_f32(self, v: f32) -> Out<'py> {
        any(self.py, v)
    }
    fn serialize_f64(self, v: f64) -> Out<'py> {
        any(self.py, v)
    }
    fn serialize_char(self, v: char) -> Out<'py> {
        Ok(self.value(v.encode_utf8(&mut [0; 4])).into_any())
    }
    fn serialize_str(self, v: &str) -> Out<'py> {
        Ok(self.value(v).into_any())
    }
    fn serialize_bytes(self, v: &[u8]) -> Out<'py> {
        Ok(PyBytes::new(self.py, v).into_any())
    }
    fn serialize_none(self) -> Out<'py> {
        Ok(self.py.None().into_bound(self.py))
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Out<'py> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Out<'py> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Out<'py> {
        self.serialize_none()
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Out<'py> {
        Ok(self.name(variant).into_any())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _name: &'static str, value: &T) -> Out<'py> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Out<'py> {
        let inner = value.serialize(&mut *self)?;
        self.variant(variant, inner)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Items<'a, 'b, 'py>, Error> {
        Ok(Items { converter: self, items: Vec::with_capacity(len.unwrap_or(0)), variant: None })
    }
    fn serialize_tuple(self, len: usize) -> Result<Items<'a, 'b, 'py>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Items<'a, 'b, 'py>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Items<'a, 'b, 'py>, Error> {
        Ok(Items { converter: self, items: Vec::with_capacity(len), variant: Some(variant) })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Entries<'a, 'b, 'py>, Error> {
        let dict = PyDict::new(self.py);
        Ok(Entries { converter: self, dict, key: None, variant: None })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Entries<'a, 'b, 'py>, Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Entries<'a, 'b, 'py>, Error> {
        let dict = PyDict::new(self.py);
        Ok(Entries { converter: self, dict, key: None, variant: Some(variant) })
    }
}

/// A sequence or tuple being built (a list; a tuple for tuples, as pythonize does).
pub struct Items<'a, 'b, 'py> {
    converter: &'a mut Converter<'b, 'py>,
    items: Vec<Bound<'py, PyAny>>,
    /// Set for a tuple variant: the tuple is wrapped as `{variant: tuple}`.
    variant: Option<&'static str>,
}

impl<'py> Items<'_, '_, 'py> {
    fn push<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        let item = value.serialize(&mut *self.converter)?;
        self.items.push(item);
        Ok(())
    }

    fn list(self) -> Out<'py> {
        Ok(PyList::new(self.converter.py, self.items)?.into_any())
    }

    fn tuple(self) -> Out<'py> {
        let tuple = PyTuple::new(self.converter.py, self.items)?.into_any();
        match self.variant {
            Some(variant) => self.converter.variant(variant, tuple),
            None => Ok(tuple),
        }
    }
}

/// serde's four sequence-like traits, all building `Items`: `$add` is the trait's method
/// for one element, `$end` how the items become a Python object.
macro_rules! items_trait {
    ($trait:ident, $add:ident, $end:ident) => {
        impl<'py> ser::$trait for Items<'_, '_, 'py> {
            type Ok = Bound<'py, PyAny>;
            type Error = Error;
            fn $add<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
                self.push(value)
            }
            fn end(self) -> Out<'py> {
                self.$end()
            }
        }
    };
}

items_trait!(SerializeSeq, serialize_element, list);
items_trait!(SerializeTuple, serialize_element, tuple);
items_trait!(SerializeTupleStruct, serialize_field, tuple);
items_trait!(SerializeTupleVariant, serialize_field, tuple);

/// A map or struct being built, as a dict.
pub struct Entries<'a, 'b, 'py> {
    converter: &'a mut Converter<'b, 'py>,
    dict: Bound<'py, PyDict>,
    key: Option<Bound<'py, PyAny>>,
    /// Set for a struct variant: the dict is wrapped as `{variant: dict}`.
    variant: Option<&'static str>,
}

impl<'py> Entries<'_, '_, 'py> {
    fn field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        let key = self.converter.name(key);
        let value = value.serialize(&mut *self.converter)?;
        self.dict.set_item(key, value)?;
        Ok(())
    }

    fn finish(self) -> Out<'py> {
        let dict = self.dict.into_any();
        match self.variant {
            Some(variant) => self.converter.variant(variant, dict),
            None => Ok(dict),
        }
    }
}

impl<'py> ser::SerializeMap for Entries<'_, '_, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key.serialize(&mut *self.converter)?);
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        let key = self.key.take().ok_or_else(|| <Error as ser::Error>::custom("a map value came before its key"))?;
        let value = value.serialize(&mut *self.converter)?;
        self.dict.set_item(key, value)?;
        Ok(())
    }
    fn end(self) -> Out<'py> {
        self.finish()
    }
}

/// serde's two struct traits, both building `Entries`.
macro_rules! struct_trait {
    ($trait:ident) => {
        impl<'py> ser::$trait for Entries<'_, '_, 'py> {
            type Ok = Bound<'py, PyAny>;
            type Error = Error;
            fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
                self.field(key, value)
            }
            fn end(self) -> Out<'py> {
                self.finish()
            }
        }
    };
}

struct_trait!(SerializeStruct);
struct_trait!(SerializeStructVariant);

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use pyo3::types::PyAnyMethods;
    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct Inner {
        name: String,
        score: f64,
        flag: bool,
        missing: Option<u8>,
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(i64),
        Tuple(u8, String),
        Struct { a: Vec<u16>, b: char },
    }

    #[derive(Serialize)]
    struct Everything {
        inner: Inner,
        shapes: Vec<Shape>,
        pair: (i32, &'static str),
        map: BTreeMap<String, Vec<u32>>,
        bytes: serde_bytes_like::Bytes,
        nothing: (),
        big: u128,
        text: String,
    }

    /// `serialize_bytes` without another dependency.
    mod serde_bytes_like {
        pub struct Bytes(pub Vec<u8>);
        impl serde::Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.0)
            }
        }
    }

    fn everything(text: &str) -> Everything {
        Everything {
            inner: Inner { name: "héparine".into(), score: 0.25, flag: true, missing: None },
            shapes: vec![
                Shape::Unit,
                Shape::Newtype(-7),
                Shape::Tuple(3, "x".into()),
                Shape::Struct { a: vec![1, 2], b: 'é' },
            ],
            pair: (-1, "two"),
            map: BTreeMap::from([("k".to_owned(), vec![1, 2, 3])]),
            bytes: serde_bytes_like::Bytes(vec![0, 255]),
            nothing: (),
            big: u128::MAX,
            text: text.to_owned(),
        }
    }

    #[test]
    fn answers_are_the_objects_pythonize_makes_with_strings_reused_but_never_mixed() {
        Python::initialize();
        Python::attach(|py| {
            let value = everything("warfarine");
            let expected = pythonize::pythonize(py, &value).expect("pythonize");
            for values in [Values::Fresh, Values::Reused] {
                let ours = to_python(py, &value, values).expect("convert");
                assert!(ours.eq(&expected).expect("compare"), "{values:?}: {ours} != {expected}");
            }
            // Reused strings: the same object for the same text, and a full map starts again
            // without ever answering one text with another.
            fn text_of<'py>(v: &Bound<'py, PyAny>) -> Bound<'py, PyAny> {
                v.get_item("text").expect("text")
            }
            let first = text_of(&to_python(py, &value, Values::Reused).expect("convert"));
            let again = text_of(&to_python(py, &value, Values::Reused).expect("convert"));
            assert!(first.is(&again), "reused");
            for i in 0..(VALUES_KEPT * 2) {
                let text = format!("free text {i}");
                let got = text_of(&to_python(py, &everything(&text), Values::Reused).expect("convert"));
                assert_eq!(got.extract::<String>().expect("str"), text);
            }
            let fresh = text_of(&to_python(py, &value, Values::Fresh).expect("convert"));
            assert!(!fresh.is(&first), "fresh strings are made each time");
        });
    }
}
