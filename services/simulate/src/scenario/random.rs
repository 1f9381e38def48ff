//! Draws from the seeded stream, and only from it: no thread or OS randomness, and integer
//! widths that do not depend on the platform (`usize` is drawn as `u32`), so that one seed
//! gives the same run on every machine. Each helper documents nothing about the model; it
//! just fixes how many values it takes from the stream.

use rand::{Rng, RngCore};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

pub(super) fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    rng.gen::<f64>() < p
}

pub(super) fn between(rng: &mut ChaCha8Rng, lo: i64, hi: i64) -> i64 {
    rng.gen_range(lo..=hi)
}

pub(super) fn below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    rng.gen_range(0..n as u32) as usize
}

pub(super) fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[below(rng, items.len())]
}

pub(super) fn weighted<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.gen_range(0..total);
    for (item, w) in items {
        if x < *w {
            return *item;
        }
        x -= w;
    }
    unreachable!("weights add up")
}

pub(super) fn weighted_f<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, f64)]) -> T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.gen::<f64>() * total;
    for (item, w) in items {
        if x < *w {
            return *item;
        }
        x -= w;
    }
    items.last().expect("not empty").0
}

/// A version-4 UUID (correlation and group ids) from 16 bytes of the stream.
pub(super) fn random_uuid(rng: &mut ChaCha8Rng) -> Uuid {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}
