//! The login-in-progress index (`mwoauth_pending`, plain, browser-held):
//! whatever the browser sends, the index written back after one more login
//! names at most four distinct slots below four, all live, none larger than
//! the budget and all together within it, and only entries the browser sent
//! or the new login.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket_mediawiki_oauth::fuzzing::store_login;

const SLOTS: usize = 4;
const BUDGET: usize = 3800;
const LIFETIME: i64 = 600;

fuzz_target!(|data: &[u8]| {
    let Ok(index) = std::str::from_utf8(data) else {
        return;
    };
    // The crate's clock reads `before` ≤ now ≤ `after`; `@` is `before`.
    let (written, before, after) = store_login(index);
    let given = index.replace('@', &before.to_string());
    let mut slots = Vec::new();
    let mut total = 0;
    for entry in written.split('_') {
        let parts: Vec<&str> = entry.split('-').collect();
        let [slot, created, size] = parts[..] else {
            panic!("malformed entry {entry:?} in {written:?}");
        };
        let slot: usize = slot.parse().unwrap();
        let created: i64 = created.parse().unwrap();
        let size: usize = size.parse().unwrap();
        assert!(slot < SLOTS, "{written:?}");
        assert!(!slots.contains(&slot), "{written:?}");
        assert!(
            created <= after && before - created <= LIFETIME,
            "{written:?}"
        );
        assert!(size <= BUDGET, "{written:?}");
        total += size;
        slots.push(slot);
    }
    assert!(!slots.is_empty() && slots.len() <= SLOTS, "{written:?}");
    assert!(total <= BUDGET, "{written:?} from {given:?}");
    // The last entry is the new login; the others come from the browser's index.
    let (kept, new) = written.rsplit_once('_').unwrap_or(("", written.as_str()));
    let created: i64 = new.split('-').nth(1).unwrap().parse().unwrap();
    assert!(before <= created && created <= after, "{written:?}");
    for entry in kept.split('_').filter(|e| !e.is_empty()) {
        let [slot, created, size] = entry.split('-').collect::<Vec<_>>()[..] else {
            unreachable!()
        };
        let sent = given.split('_').any(|e| {
            let p: Vec<&str> = e.splitn(3, '-').collect();
            p.len() == 3
                && p[0].parse::<i64>().ok() == slot.parse().ok()
                && p[1].parse::<i64>().ok() == created.parse().ok()
                && p[2].parse::<i64>().ok() == size.parse().ok()
        });
        assert!(sent, "{entry:?} was not in {given:?}");
    }
});
