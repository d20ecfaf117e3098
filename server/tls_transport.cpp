#include "tls_transport.hpp"

#include "stream_transport_impl.hpp"

namespace parley::server {

template class StreamTransport<TlsStream>;

}  // namespace parley::server
