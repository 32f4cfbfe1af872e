//! Integration tests over real loopback sockets.
