//! Who is on the other end of a loopback TCP connection: the socket's owner uid, asked
//! of the kernel through sock_diag netlink. Each sandboxed environment runs as its own
//! uid, so this tells one environment's connections from another's.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;

use nix::sys::socket::{recv, sendto, socket, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType};

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const INET_DIAG_NOCOOKIE: u32 = !0;

fn ip_words(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&v4.octets());
            b
        }
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// The uid owning the TCP socket at `peer` that is connected to `local`, both on this
/// host.
pub fn tcp_peer_uid(local: SocketAddr, peer: SocketAddr) -> io::Result<u32> {
    let family = if peer.is_ipv4() { libc::AF_INET as u8 } else { libc::AF_INET6 as u8 };
    // struct nlmsghdr + struct inet_diag_req_v2, in host byte order except the ports
    // and addresses, which are network order.
    let mut msg = Vec::with_capacity(72);
    msg.extend_from_slice(&72u32.to_ne_bytes());
    msg.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    msg.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    msg.extend_from_slice(&1u32.to_ne_bytes()); // sequence
    msg.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel
    msg.push(family);
    msg.push(libc::IPPROTO_TCP as u8);
    msg.push(0); // extensions
    msg.push(0); // pad
    msg.extend_from_slice(&u32::MAX.to_ne_bytes()); // every state
                                                    // inet_diag_sockid: the peer's socket sees the peer as source.
    msg.extend_from_slice(&peer.port().to_be_bytes());
    msg.extend_from_slice(&local.port().to_be_bytes());
    msg.extend_from_slice(&ip_words(peer.ip()));
    msg.extend_from_slice(&ip_words(local.ip()));
    msg.extend_from_slice(&0u32.to_ne_bytes()); // interface
    msg.extend_from_slice(&INET_DIAG_NOCOOKIE.to_ne_bytes());
    msg.extend_from_slice(&INET_DIAG_NOCOOKIE.to_ne_bytes());
    debug_assert_eq!(msg.len(), 72);

    let fd = socket(AddressFamily::Netlink, SockType::Raw, SockFlag::SOCK_CLOEXEC, SockProtocol::NetlinkSockDiag)?;
    sendto(fd.as_raw_fd(), &msg, &NetlinkAddr::new(0, 0), MsgFlags::empty())?;
    let mut buf = [0u8; 512];
    let n = recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty())?;
    if n < 16 {
        return Err(io::Error::other("short sock_diag answer"));
    }
    let kind = u16::from_ne_bytes([buf[4], buf[5]]);
    if kind == NLMSG_ERROR {
        let errno = i32::from_ne_bytes([buf[16], buf[17], buf[18], buf[19]]);
        return Err(io::Error::from_raw_os_error(-errno));
    }
    // struct inet_diag_msg: family, state, timer, retrans (4), sockid (48), expires,
    // rqueue, wqueue (12), then uid.
    let at = 16 + 4 + 48 + 12;
    if n < at + 4 {
        return Err(io::Error::other("short inet_diag_msg"));
    }
    Ok(u32::from_ne_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_owner_of_a_loopback_connection() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, peer) = listener.accept().unwrap();
        let uid = tcp_peer_uid(server.local_addr().unwrap(), peer).unwrap();
        assert_eq!(uid, nix::unistd::Uid::effective().as_raw());
        drop(client);
    }
}
