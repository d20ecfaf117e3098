#include "ws_transport.hpp"

#include "ws_transport_impl.hpp"

namespace parley::server {

template class WsTransport<SocketStream<asio::ip::tcp::socket>>;
template class WsTransport<SocketStream<asio::local::stream_protocol::socket>>;
template class WsTransport<TlsStream>;

}  // namespace parley::server
