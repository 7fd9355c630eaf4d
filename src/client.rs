//! Who a client is, for the limits that count clients (connections per
//! address in `server`, rate limits in `booking::limits`): one rule, so a
//! client is the same client to both.

use std::net::IpAddr;

/// The address a client is counted under: an IPv4 address (also when it
/// arrives mapped into IPv6, `::ffff:a.b.c.d`), or an IPv6 address's /64,
/// the block one customer is usually given, so that a client cannot escape
/// a limit by using another address of its own.
pub fn counted_as(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => IpAddr::V6((v6.to_bits() & !u128::from(u64::MAX)).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::counted_as;
    use std::net::IpAddr;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64_and_an_ipv4_one_its_address() {
        assert_eq!(counted_as(ip("2001:db8:1:2:abcd::9")), ip("2001:db8:1:2::"));
        assert_eq!(
            counted_as(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")),
            ip("2001:db8:1:2::")
        );
        assert_ne!(counted_as(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
        assert_eq!(counted_as(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(counted_as(ip("192.0.2.1")), ip("192.0.2.1"));
    }
}
