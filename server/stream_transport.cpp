#include "stream_transport.hpp"

#include "stream_transport_impl.hpp"

namespace parley::server {

template class StreamTransport<SocketStream<asio::ip::tcp::socket>>;
template class StreamTransport<SocketStream<asio::local::stream_protocol::socket>>;

}  // namespace parley::server
