//! The keys of the input objects, for `index.js`: napi ignores a key a struct does not
//! declare, so a typo (`locaton`) would silently lose data; `index.js` refuses it instead.
//!
//! The structs in `types.rs` are the one source of truth. Each input struct is followed by
//! [`input_keys!`], whose field list the compiler checks against the struct in both
//! directions (an exhaustive pattern: a field left out, or a name that is not a field, does
//! not compile), and which reads from the field types which of them hold another input
//! object. [`input_shapes`] hands the result to `index.js` once, when the package loads;
//! `test/inputs.test.js` compares it with the interfaces of the generated `index.d.ts`.
//!
//! (A macro that declares the struct itself would need no list at all, but napi-derive
//! reads a doc comment that went through `macro_rules!` as a raw string literal and would
//! print `r"` into every TypeScript doc.)

use chrono::{DateTime, Utc};
use napi::bindgen_prelude::{ClassInstance, Either, Either3};
use napi_derive::napi;
use serde_json::{Map, Value};

use crate::lifecycle::Clock;
use crate::types::{
    ArchiveOptions, AuditOptions, ConnectOptions, DateRange, FindOptions, InteractionPatch,
    LocalTime, NewInteraction, PurgeOptions, RetentionPolicy,
};

/// What an input value holds, as far as `index.js` walks it: one of the input structs
/// (directly or inside `Option`, `Vec`, `Either`), or none.
pub(crate) trait Input {
    /// The name of the input struct the value may be, if any.
    const OBJECT: Option<&'static str> = None;
}

/// An input struct, with its keys: implemented by [`input_keys!`].
pub(crate) trait InputObject {
    /// The struct's fields in declaration order (Rust names), each with the name of the
    /// input struct its value may be ([`Input::OBJECT`] of its type).
    fn fields() -> Vec<(&'static str, Option<&'static str>)>;
}

/// [`Input::OBJECT`] of a field's type, named by a field access (`|v| &v.start`).
pub(crate) fn object_of<S, T: Input>(_field: fn(&S) -> &T) -> Option<&'static str> {
    T::OBJECT
}

const fn either(a: Option<&'static str>, b: Option<&'static str>) -> Option<&'static str> {
    match a {
        Some(_) => a,
        None => b,
    }
}

impl Input for String {}
impl Input for bool {}
impl Input for f64 {}
impl Input for DateTime<Utc> {}
impl Input for ClassInstance<'_, Clock> {}
impl<T: Input> Input for Option<T> {
    const OBJECT: Option<&'static str> = T::OBJECT;
}
impl<T: Input> Input for Vec<T> {
    const OBJECT: Option<&'static str> = T::OBJECT;
}
impl<A: Input, B: Input> Input for Either<A, B> {
    const OBJECT: Option<&'static str> = either(A::OBJECT, B::OBJECT);
}
impl<A: Input, B: Input, C: Input> Input for Either3<A, B, C> {
    const OBJECT: Option<&'static str> = either(either(A::OBJECT, B::OBJECT), C::OBJECT);
}

/// `input_keys!(Struct { field_a, field_b })`, right after an input struct: implements
/// [`Input`] and [`InputObject`] for it. Every field must be listed, and only fields: the
/// exhaustive pattern below does not compile otherwise.
macro_rules! input_keys {
    ($name:ident $(<$lt:lifetime>)? { $($field:ident),* $(,)? }) => {
        impl $crate::inputs::Input for $name $(<$lt>)? {
            const OBJECT: Option<&'static str> = Some(stringify!($name));
        }

        impl $crate::inputs::InputObject for $name $(<$lt>)? {
            fn fields() -> Vec<(&'static str, Option<&'static str>)> {
                // Exhaustive (no `..`): the list above is every field of the struct. A field
                // left out fails here as "pattern requires `..` due to inaccessible fields".
                fn _every_field(v: $name $(<$lt>)?) {
                    let $name { $($field: _),* } = v;
                }
                vec![$((
                    stringify!($field),
                    $crate::inputs::object_of(|v: &Self| &v.$field),
                )),*]
            }
        }
    };
}
pub(crate) use input_keys;

/// napi's JS name of a struct field: camelCase of the Rust name.
fn js_name(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn add<T: Input + InputObject>(all: &mut Map<String, Value>) {
    let fields = T::fields()
        .into_iter()
        .map(|(field, object)| (js_name(field), object.map_or(Value::Null, Value::from)))
        .collect();
    if let Some(name) = T::OBJECT {
        all.insert(name.to_string(), Value::Object(fields));
    }
}

/// The input objects' keys, read once by `index.js`:
/// `{ NewInteraction: { title: null, start: 'LocalTime', ... }, ... }`, each key mapped to
/// the input struct its value may be (`null`: none). Not part of the package's API.
#[napi(skip_typescript)]
pub fn input_shapes() -> Value {
    let mut all = Map::new();
    add::<LocalTime>(&mut all);
    add::<ConnectOptions<'_>>(&mut all);
    add::<RetentionPolicy>(&mut all);
    add::<NewInteraction>(&mut all);
    add::<InteractionPatch>(&mut all);
    add::<AuditOptions>(&mut all);
    add::<DateRange>(&mut all);
    add::<FindOptions>(&mut all);
    add::<ArchiveOptions>(&mut all);
    add::<PurgeOptions>(&mut all);
    Value::Object(all)
}
