//! The manager's randomness: SplitMix64 seeded once from the OS. Jitter and cache-busters
//! need spread, not secrecy.

pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn from_os(os: &mut rand_core::OsRng) -> Self {
        use rand_core::TryRngCore;
        // Without OS randomness, fall back to the address of a stack value mixed with time:
        // still different per process, which is all jitter needs.
        let seed = os.try_next_u64().unwrap_or_else(|_| {
            let local = 0u8;
            let addr = std::ptr::addr_of!(local) as u64;
            let time = web_time::SystemTime::now()
                .duration_since(web_time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            addr ^ time
        });
        Self(seed)
    }
}

impl rand_core::RngCore for SplitMix {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}
