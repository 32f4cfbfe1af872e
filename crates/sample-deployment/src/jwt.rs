//! JWT-shaped access tokens for scenario D. The signature is 32 random bytes
//! (no cryptography): tokens are validated by looking them up in the set of
//! tokens the environment has issued.

use crate::http::unix_now;
use serde_json::json;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded base64url encoding.
pub(crate) fn base64url(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// `n` * 16 random bytes.
fn random_bytes(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|_| *uuid::Uuid::new_v4().as_bytes())
        .collect()
}

/// A new HS256-shaped JWT for user `sub` in environment `env`.
pub(crate) fn issue(sub: &str, env: &str) -> String {
    let header = json!({"alg": "HS256", "typ": "JWT"}).to_string();
    let payload = json!({"sub": sub, "env": env, "iat": unix_now()}).to_string();
    format!(
        "{}.{}.{}",
        base64url(header.as_bytes()),
        base64url(payload.as_bytes()),
        base64url(&random_bytes(2))
    )
}

/// An opaque random refresh token.
pub(crate) fn refresh_token() -> String {
    base64url(&random_bytes(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_vectors() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foob"), "Zm9vYg");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn jwt_shape() {
        let t = issue("usr_1", "staging");
        let parts: Vec<_> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], base64url(br#"{"alg":"HS256","typ":"JWT"}"#));
        assert_eq!(parts[2].len(), 43);
    }
}
