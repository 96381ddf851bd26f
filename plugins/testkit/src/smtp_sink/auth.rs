//! AUTH PLAIN and LOGIN: any password is accepted; the user name is what is kept.

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

use super::session::read_line;

/// Runs AUTH PLAIN or LOGIN and returns the user name; `None` when undecodable.
pub(super) async fn authenticate<R, W>(
    arg: &str,
    read: &mut BufReader<R>,
    write: &mut W,
) -> std::io::Result<Option<String>>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (mechanism, initial) = match arg.split_once(' ') {
        Some((mechanism, initial)) => (
            mechanism.to_ascii_uppercase(),
            Some(initial.trim().to_owned()),
        ),
        None => (arg.to_ascii_uppercase(), None),
    };
    match mechanism.as_str() {
        "PLAIN" => {
            let response = match initial {
                Some(initial) => initial,
                None => match prompt(read, write, b"334 \r\n").await? {
                    Some(line) => line,
                    None => return Ok(None),
                },
            };
            // authzid NUL authcid NUL password
            Ok(decode_base64(&response)
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .and_then(|text| text.split('\0').nth(1).map(str::to_owned)))
        }
        "LOGIN" => {
            let user = match initial {
                Some(initial) => initial,
                // "Username:" in base64
                None => match prompt(read, write, b"334 VXNlcm5hbWU6\r\n").await? {
                    Some(line) => line,
                    None => return Ok(None),
                },
            };
            // "Password:" in base64; the password itself is not checked.
            if prompt(read, write, b"334 UGFzc3dvcmQ6\r\n")
                .await?
                .is_none()
            {
                return Ok(None);
            }
            Ok(decode_base64(&user).and_then(|bytes| String::from_utf8(bytes).ok()))
        }
        _ => Ok(None),
    }
}

/// Sends a `334` challenge and reads the client's answer.
async fn prompt<R, W>(
    read: &mut BufReader<R>,
    write: &mut W,
    challenge: &[u8],
) -> std::io::Result<Option<String>>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    write.write_all(challenge).await?;
    read_line(read).await
}

/// Standard base64 with optional padding; `None` on any other character.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for byte in text.trim().bytes().filter(|&b| b != b'=') {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from(buffer >> bits).expect("the bits above the buffer were taken"));
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}
