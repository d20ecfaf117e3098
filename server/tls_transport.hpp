#pragma once
// The line protocol over TLS, for a session that knows nothing of it: the same
// StreamTransport as plain TCP, over TlsStream (the TLS engine) instead of a socket.
#include "stream_transport.hpp"
#include "tls_stream.hpp"

namespace parley::server {

using TlsTransport = StreamTransport<TlsStream>;

extern template class StreamTransport<TlsStream>;

}  // namespace parley::server
