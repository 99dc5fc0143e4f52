//! A small binary layout for what the crate keeps in its session cookie:
//! unsigned integers as LEB128 varints, byte strings length-prefixed, and
//! token text packed by its shape ([`Writer::text`]), so that a hex token
//! takes half its characters and a JWT's parts their decoded bytes. The
//! session room lays out its record with it, the protocol room its
//! credentials; neither knows the other's fields.
//!
//! A layout has two parts: the values, and the random bytes of tokens (a
//! hex token's, a JWT's signature), each of which takes its length in the
//! values and its bytes in the second part. The values compress well (JSON
//! claims, names, lists); the random bytes do not, and kept apart they do
//! not spoil the compression of the rest.
//!
//! Reading never panics and never allocates more than its input implies: a
//! [`Reader`] answers `None` for anything that is not a value written by a
//! [`Writer`].

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Appends values to a layout's two parts.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    values: Vec<u8>,
    random: Vec<u8>,
}

/// Reads values back in the order they were written.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    values: &'a [u8],
    random: &'a [u8],
}

/// How a text was packed ([`Writer::text`]).
const VERBATIM: u8 = 0;
const HEX: u8 = 1;
const JWT: u8 = 2;

impl Writer {
    /// The values, and the random bytes of tokens.
    pub fn into_parts(self) -> (Vec<u8>, Vec<u8>) {
        (self.values, self.random)
    }

    /// An unsigned integer (1 byte below 128, at most 10).
    pub fn uint(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.values.push((n as u8) | 0x80);
            n >>= 7;
        }
        self.values.push(n as u8);
    }

    /// A signed integer (zigzag, so small negative numbers stay short).
    pub fn int(&mut self, n: i64) {
        self.uint(((n << 1) ^ (n >> 63)) as u64);
    }

    pub fn byte(&mut self, b: u8) {
        self.values.push(b);
    }

    /// Bytes, length first.
    pub fn bytes(&mut self, b: &[u8]) {
        self.uint(b.len() as u64);
        self.values.extend_from_slice(b);
    }

    /// Random bytes: the length among the values, the bytes apart.
    fn random(&mut self, b: &[u8]) {
        self.uint(b.len() as u64);
        self.random.extend_from_slice(b);
    }

    /// A text as it is.
    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    /// A list of texts.
    pub fn strs(&mut self, list: &[String]) {
        self.uint(list.len() as u64);
        for s in list {
            self.str(s);
        }
    }

    /// A token's text, packed by its shape and read back identical
    /// ([`Reader::text`]): lowercase hex of even length as its bytes (a
    /// MediaWiki OAuth 1.0a token, an OAuth 2.0 refresh token or code), apart
    /// with the random bytes; three canonical unpadded base64url parts joined
    /// by dots as each part's bytes (a JWT, an OAuth 2.0 access token: the
    /// header's and the claims' JSON among the values, the signature apart);
    /// anything else as it is.
    pub fn text(&mut self, s: &str) {
        if let Some(bytes) = hex_bytes(s) {
            self.byte(HEX);
            self.random(&bytes);
        } else if let Some([header, claims, signature]) = jwt_parts(s) {
            self.byte(JWT);
            self.bytes(&header);
            self.bytes(&claims);
            self.random(&signature);
        } else {
            self.byte(VERBATIM);
            self.str(s);
        }
    }
}

impl<'a> Reader<'a> {
    /// A reader of the two parts [`Writer::into_parts`] gave.
    pub fn new(values: &'a [u8], random: &'a [u8]) -> Reader<'a> {
        Reader { values, random }
    }

    /// The values not read yet.
    pub fn rest(self) -> &'a [u8] {
        self.values
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.random.is_empty()
    }

    pub fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.values.split_first()?;
        self.values = rest;
        Some(b)
    }

    pub fn uint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            let low = u64::from(b & 0x7f);
            // The tenth byte holds one bit; more is not a u64.
            if shift == 63 && low > 1 {
                return None;
            }
            n |= low << shift;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    pub fn int(&mut self) -> Option<i64> {
        let z = self.uint()?;
        Some(((z >> 1) as i64) ^ -((z & 1) as i64))
    }

    pub fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = self.len()?;
        take(&mut self.values, len)
    }

    fn random(&mut self) -> Option<&'a [u8]> {
        let len = self.len()?;
        take(&mut self.random, len)
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.uint()?).ok()
    }

    pub fn str(&mut self) -> Option<String> {
        std::str::from_utf8(self.bytes()?).ok().map(str::to_string)
    }

    pub fn strs(&mut self) -> Option<Vec<String>> {
        let n = self.uint()?;
        // Each text takes at least a byte: no list longer than the input.
        if n > self.values.len() as u64 {
            return None;
        }
        (0..n).map(|_| self.str()).collect()
    }

    /// A text written by [`Writer::text`].
    pub fn text(&mut self) -> Option<String> {
        match self.byte()? {
            VERBATIM => self.str(),
            HEX => {
                let bytes = self.random()?;
                let mut s = String::with_capacity(bytes.len() * 2);
                for b in bytes {
                    s.push(HEX_DIGITS[usize::from(b >> 4)] as char);
                    s.push(HEX_DIGITS[usize::from(b & 15)] as char);
                }
                Some(s)
            }
            JWT => {
                let mut s = String::new();
                URL_SAFE_NO_PAD.encode_string(self.bytes()?, &mut s);
                s.push('.');
                URL_SAFE_NO_PAD.encode_string(self.bytes()?, &mut s);
                s.push('.');
                URL_SAFE_NO_PAD.encode_string(self.random()?, &mut s);
                Some(s)
            }
            _ => None,
        }
    }
}

/// The first `len` bytes of `part`, which keeps the rest; `None` if it is
/// shorter.
fn take<'a>(part: &mut &'a [u8], len: usize) -> Option<&'a [u8]> {
    if len > part.len() {
        return None;
    }
    let (taken, rest) = part.split_at(len);
    *part = rest;
    Some(taken)
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// The bytes of lowercase hex of even, non-zero length.
fn hex_bytes(s: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let b = s.as_bytes();
    if b.is_empty() || !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// The decoded parts of three dot-separated unpadded base64url parts, if
/// each encodes back to exactly its text (so that nothing is lost).
fn jwt_parts(s: &str) -> Option<[Vec<u8>; 3]> {
    let mut parts = s.split('.');
    let mut decode = || {
        let part = parts.next()?;
        let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
        (URL_SAFE_NO_PAD.encode(&bytes) == part).then_some(bytes)
    };
    let decoded = [decode()?, decode()?, decode()?];
    parts.next().is_none().then_some(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(s: &str) -> (String, usize) {
        let mut w = Writer::default();
        w.text(s);
        let (values, random) = w.into_parts();
        let mut r = Reader::new(&values, &random);
        let back = r.text().expect("reads back");
        assert!(r.is_empty());
        (back, values.len() + random.len())
    }

    fn parts(w: Writer) -> (Vec<u8>, Vec<u8>) {
        w.into_parts()
    }

    #[test]
    fn real_shaped_tokens_pack_to_their_bytes() {
        // A MediaWiki 1.43 refresh token: `def50200` and hex, 872 characters.
        let refresh = format!("def50200{}", "0123456789abcdef".repeat(54));
        assert_eq!(refresh.len(), 872);
        assert_eq!(round_trip(&refresh), (refresh.clone(), 1 + 2 + 436));
        // An RS256 JWT: header, payload, 256-byte signature.
        let header = br#"{"typ":"JWT","alg":"RS256","jti":"ab"}"#;
        let payload = br#"{"aud":"c","sub":"1","scopes":["basic"]}"#;
        let jwt = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode([7u8; 256])
        );
        let (back, len) = round_trip(&jwt);
        assert_eq!(back, jwt);
        // The tag, then each part's length and bytes.
        assert_eq!(
            len,
            1 + (1 + header.len()) + (1 + payload.len()) + (2 + 256)
        );
    }

    #[test]
    fn other_texts_are_kept_as_they_are() {
        for s in [
            "",
            "ABCDEF",       // uppercase hex: its case would be lost
            "abc",          // odd length
            "a.b",          // two parts
            "a.b.c.d",      // four parts
            "eyJ.eyJ.sig=", // padding
            "aGk.aGl.aGk",  // non-canonical bits ("aGl" would come back "aGk")
            "Ünïcödé.x.y",
        ] {
            let (back, len) = round_trip(s);
            assert_eq!(back, s);
            assert_eq!(len, 2 + s.len(), "{s:?} kept verbatim");
        }
    }

    #[test]
    fn integers_round_trip_at_their_edges() {
        for n in [0, 1, 127, 128, 16_383, 16_384, u64::MAX / 2, u64::MAX] {
            let mut w = Writer::default();
            w.uint(n);
            assert_eq!(Reader::new(&parts(w).0, &[]).uint(), Some(n));
        }
        for n in [0, -1, 1, i64::MIN, i64::MAX, 1_764_000_000] {
            let mut w = Writer::default();
            w.int(n);
            assert_eq!(Reader::new(&parts(w).0, &[]).int(), Some(n));
        }
        // Eleven continuation bytes, or a tenth byte above 1: not a u64.
        assert_eq!(Reader::new(&[0xff; 11], &[]).uint(), None);
        let tenth_too_large = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2];
        assert_eq!(Reader::new(&tenth_too_large, &[]).uint(), None);
    }

    #[test]
    fn truncated_or_foreign_input_reads_as_none() {
        let mut w = Writer::default();
        w.text(&"ab".repeat(40));
        w.strs(&["sysop".into(), "bureaucrat".into()]);
        let (values, random) = parts(w);
        for cut in 0..values.len() {
            let mut r = Reader::new(&values[..cut], &random);
            assert!(r.text().is_none() || r.strs().is_none(), "cut at {cut}");
        }
        for cut in 0..random.len() {
            let mut r = Reader::new(&values, &random[..cut]);
            assert!(r.text().is_none(), "random bytes cut at {cut}");
        }
        assert_eq!(Reader::new(&[9, 0], &[]).text(), None, "an unknown packing");
        assert_eq!(
            Reader::new(&[200, 1], &[]).strs(),
            None,
            "a list longer than its input"
        );
    }

    proptest! {
        #[test]
        fn any_text_reads_back_identical(s in "\\PC{0,80}") {
            prop_assert_eq!(round_trip(&s).0, s);
        }

        #[test]
        fn any_hex_or_base64url_shaped_text_reads_back_identical(
            s in "[0-9a-f]{0,300}|[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,60}"
        ) {
            prop_assert_eq!(round_trip(&s).0, s);
        }

        #[test]
        fn real_shaped_tokens_take_their_bytes(
            refresh in proptest::collection::vec(any::<u8>(), 400..600),
            header in "\\{\"typ\":\"JWT\",\"alg\":\"RS256\",\"jti\":\"[0-9a-f]{80}\"\\}",
            payload in "\\{\"aud\":\"[0-9a-f]{32}\",\"sub\":\"[0-9]{1,9}\",\"scopes\":\\[(\"[a-z]{3,20}\",){0,11}\"basic\"\\]\\}",
            signature in proptest::collection::vec(any::<u8>(), 256..=256),
        ) {
            let hex: String = refresh.iter().map(|b| format!("{b:02x}")).collect();
            let (back, len) = round_trip(&hex);
            prop_assert_eq!(back, hex);
            prop_assert!(len <= refresh.len() + 3);
            let jwt = format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode(&header),
                URL_SAFE_NO_PAD.encode(&payload),
                URL_SAFE_NO_PAD.encode(&signature)
            );
            let (back, len) = round_trip(&jwt);
            prop_assert_eq!(back, jwt);
            prop_assert!(len <= header.len() + payload.len() + 256 + 8);
        }
    }
}
