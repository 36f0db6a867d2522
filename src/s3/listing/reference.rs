//! The reference semantics of one S3 listing call over a sorted key set:
//! what a `ListSource` must return. The `file://` backend lists with it, and
//! the model tests of the merge use it as the single-backend truth.
//!
//! Semantics: keys starting with `prefix` and greater than `start_after`,
//! rolled up at the first `delimiter` after the prefix into a common prefix,
//! which is listed only when it is itself greater than `start_after`; keys and
//! common prefixes both count toward `max_keys`.

use std::collections::BTreeMap;
use std::ops::Bound;

use super::page::{BackendPage, Entry, ObjectEntry};

/// One listing call over `objects` (see the module docs).
pub fn list_sorted(
    objects: &BTreeMap<String, ObjectEntry>,
    prefix: &str,
    delimiter: Option<&str>,
    start_after: &str,
    max_keys: usize,
) -> BackendPage {
    list_range(objects, prefix, delimiter, start_after, max_keys, false)
}

/// [`list_sorted`]; `keys_then_group` behaves like backends that list again
/// the common prefix a listing resumes at (the merge must cope with both).
pub fn list_range(
    objects: &BTreeMap<String, ObjectEntry>,
    prefix: &str,
    delimiter: Option<&str>,
    start_after: &str,
    max_keys: usize,
    keys_then_group: bool,
) -> BackendPage {
    let mut page = BackendPage::default();
    if max_keys == 0 {
        return page;
    }
    let delimiter = delimiter.filter(|d| !d.is_empty());
    // The keys that take part are contiguous, from max(prefix, start_after) on.
    let lower = if start_after >= prefix { Bound::Excluded(start_after) } else { Bound::Included(prefix) };
    for (key, object) in objects.range::<str, _>((lower, Bound::Unbounded)) {
        if !key.starts_with(prefix) {
            break;
        }
        let rest = &key[prefix.len()..];
        let rolled_up = delimiter.and_then(|d| rest.find(d).map(|i| &key[..prefix.len() + i + d.len()]));
        let entry = match rolled_up {
            Some(common) => {
                if common <= start_after && !keys_then_group {
                    continue;
                }
                if page.entries.last().is_some_and(|e| e.name() == common) {
                    continue;
                }
                Entry::Prefix(common.to_owned())
            }
            None => Entry::Object(object.clone()),
        };
        if page.entries.len() == max_keys {
            page.is_truncated = true;
            break;
        }
        page.entries.push(entry);
    }
    page
}
