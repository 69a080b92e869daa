//! Tags of parameters: AddTagsToResource, RemoveTagsFromResource, ListTagsForResource
//! (`ResourceType` `Parameter`; Lamina keeps no other kind of SSM resource).

use super::*;

/// The most tags a parameter carries.
const MAX_TAGS: usize = 50;

impl SsmService {
    /// ListTagsForResource.
    pub fn tags(&self, caller: &Caller, kind: &str, id: &str) -> Result<BTreeMap<String, String>, SsmError> {
        check_kind(kind)?;
        let map = self.inner.parameters.read();
        map.get(&key(caller, id)).map(|p| p.tags.clone()).ok_or(SsmError::InvalidResourceId)
    }

    /// AddTagsToResource (a tag's key given again takes the new value) and
    /// RemoveTagsFromResource, in one: the tags after the change.
    pub fn change_tags(
        &self,
        caller: &Caller,
        kind: &str,
        id: &str,
        add: &BTreeMap<String, String>,
        remove: &[String],
    ) -> Result<(), SsmError> {
        check_kind(kind)?;
        let k = key(caller, id);
        let mut map = self.inner.parameters.write();
        let mut p = map.get(&k).cloned().ok_or(SsmError::InvalidResourceId)?;
        p.tags.extend(add.iter().map(|(k, v)| (k.clone(), v.clone())));
        p.tags.retain(|k, _| !remove.contains(k));
        if p.tags.len() > MAX_TAGS {
            return Err(SsmError::TooManyTags("The Parameter can't have more than 50 tags.".into()));
        }
        self.keep(&mut map, k, p)
    }
}

fn check_kind(kind: &str) -> Result<(), SsmError> {
    if kind == "Parameter" {
        Ok(())
    } else {
        Err(SsmError::InvalidResourceType)
    }
}
