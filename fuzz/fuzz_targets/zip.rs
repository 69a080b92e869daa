//! Deployment packages: an archive checked as CreateFunction checks it, then — if
//! accepted — stored and extracted, which must write nothing outside the store: the
//! store lives alone in a directory of its own, which must hold nothing else after.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn base() -> &'static PathBuf {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("lamina-fuzz-zip-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a directory");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    if store::inspect_zip(data).is_err() {
        return;
    }
    let store = store::CodeStore::open(&base().join("store")).expect("a code store");
    if let Ok((info, pin)) = store.put(data) {
        let _ = store.extracted(&info.sha256_hex);
        drop(pin);
        let _ = store.remove_unused::<store::CodeError>(&info.sha256_hex, || Ok(false));
    }
    let beside: Vec<_> = std::fs::read_dir(base()).expect("readable").flatten().map(|e| e.file_name()).collect();
    assert_eq!(beside, ["store"], "an archive wrote outside the store");
});
