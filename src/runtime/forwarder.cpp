#include "runtime/forwarder.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/redirect_error.hpp>

#include <unistd.h>

#include <future>
#include <list>

#include "core/log.h"
#include "runtime/netns.h"

namespace berth::runtime {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(5);
constexpr auto kDropHold = std::chrono::seconds(60);
constexpr int kMaxHeld = 256;
constexpr auto kUdpFlowIdle = std::chrono::seconds(30);
constexpr size_t kMaxUdpFlows = 1024;

ec2::IpAddress to_ip(const asio::ip::address& a) {
  if (a.is_v4()) return ec2::IpAddress::from_v4_bytes(a.to_v4().to_bytes());
  return ec2::IpAddress::from_v6_bytes(a.to_v6().to_bytes());
}

}  // namespace

// One listener: an acceptor, the task's namespace fd, and the connections
// it opened (closed with it).
struct Listener {
  ListenerSpec spec;
  tcp::acceptor acceptor;
  int netns_fd = -1;
  ec2::IpAddress address;
  std::list<std::weak_ptr<tcp::socket>> sockets;

  Listener(asio::io_context& io, ListenerSpec s) : spec(std::move(s)), acceptor(io) {}
  ~Listener() {
    if (netns_fd >= 0) ::close(netns_fd);
  }
  void track(const std::shared_ptr<tcp::socket>& s) {
    sockets.remove_if([](const auto& w) { return w.expired(); });
    sockets.push_back(s);
  }
  void close_all() {
    boost::system::error_code ec;
    acceptor.close(ec);
    for (auto& w : sockets)
      if (auto s = w.lock()) s->close(ec);
    sockets.clear();
  }
};

// One UDP port: the socket on the host address and its flows.
struct UdpListener {
  struct Flow {
    std::shared_ptr<udp::socket> upstream;  // inside the task's netns, connected to the container port
    std::chrono::steady_clock::time_point last_active;
  };
  ListenerSpec spec;
  udp::socket socket;
  int netns_fd = -1;
  ec2::IpAddress address;
  std::map<udp::endpoint, Flow> flows;
  bool closed = false;

  UdpListener(asio::io_context& io, ListenerSpec s) : spec(std::move(s)), socket(io) {}
  ~UdpListener() {
    if (netns_fd >= 0) ::close(netns_fd);
  }
  void close_all() {
    closed = true;
    boost::system::error_code ec;
    socket.close(ec);
    for (auto& [peer, flow] : flows) flow.upstream->close(ec);
    flows.clear();
  }
};

struct Forwarders::Impl {
  SecurityGroupSource groups;
  std::shared_ptr<std::atomic<uint64_t>> dropped;
  std::shared_ptr<std::atomic<int>> held = std::make_shared<std::atomic<int>>(0);
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::thread thread;
  mutable std::mutex mutex;  // guards listeners' map (not the data path)
  std::multimap<std::string, std::shared_ptr<Listener>> listeners;
  std::multimap<std::string, std::shared_ptr<UdpListener>> udp_listeners;
  struct Route {
    ListenerSpec spec;
    std::shared_ptr<int> netns_fd;
  };
  std::map<std::pair<std::string, uint16_t>, Route> routes;  // (ip, port)

  static asio::awaitable<void> pipe(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to) {
    char buf[16384];
    boost::system::error_code ec;
    for (;;) {
      size_t n = co_await from->async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      co_await asio::async_write(*to, asio::buffer(buf, n), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    // Half-close the other side so the peer sees the end of the stream.
    to->shutdown(tcp::socket::shutdown_send, ec);
  }

  asio::awaitable<void> serve(std::shared_ptr<Listener> l, std::shared_ptr<tcp::socket> client) {
    boost::system::error_code ec;
    auto remote = client->remote_endpoint(ec);
    if (ec) co_return;
    auto table = groups ? groups() : nullptr;
    ec2::Connection c{.source = to_ip(remote.address()),
                      .source_groups = {},
                      .destination = l->address,
                      .destination_groups = l->spec.destination_groups,
                      .protocol = ec2::IpProtocol::tcp(),
                      .port = l->spec.host_port};
    if (!table || !ec2::connection_allowed(c, *table)) {
      dropped->fetch_add(1);
      // AWS drops the packets, so the client waits until it gives up. The
      // handshake is already done here; the nearest thing is to answer
      // nothing and hold the connection until the client closes it or
      // kDropHold passes (a bounded number of them, then close at once).
      if (held->load() >= kMaxHeld) {
        client->close(ec);
        co_return;
      }
      held->fetch_add(1);
      char sink[512];
      asio::steady_timer hold(io, kDropHold);
      for (;;) {
        auto r = co_await (client->async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec)) ||
                           hold.async_wait(asio::use_awaitable));
        if (r.index() != 0 || ec) break;
      }
      held->fetch_sub(1);
      client->close(ec);
      co_return;
    }
    int fd = socket_in_netns(l->netns_fd, AF_INET, SOCK_STREAM);
    if (fd < 0) {
      client->close(ec);
      co_return;
    }
    auto upstream = std::make_shared<tcp::socket>(io);
    upstream->assign(tcp::v4(), fd, ec);
    if (ec) {
      ::close(fd);
      client->close(ec);
      co_return;
    }
    l->track(upstream);
    asio::steady_timer timer(io, kConnectTimeout);
    auto result = co_await (
        upstream->async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), l->spec.container_port),
                                asio::redirect_error(asio::use_awaitable, ec)) ||
        timer.async_wait(asio::use_awaitable));
    if (result.index() != 0 || ec) {
      // Refused inside the task: reset the client, as a closed port would.
      client->set_option(asio::socket_base::linger(true, 0), ec);
      client->close(ec);
      upstream->close(ec);
      co_return;
    }
    client->set_option(tcp::no_delay(true), ec);
    upstream->set_option(tcp::no_delay(true), ec);
    co_await (pipe(client, upstream) && pipe(upstream, client));
  }

  // Replies of one flow back to its client, until the flow is idle or closed.
  asio::awaitable<void> udp_replies(std::shared_ptr<UdpListener> l, udp::endpoint client,
                                    std::shared_ptr<udp::socket> upstream) {
    char buf[65536];
    boost::system::error_code ec;
    for (;;) {
      asio::steady_timer idle(io, kUdpFlowIdle);
      auto r = co_await (upstream->async_receive(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec)) ||
                         idle.async_wait(asio::use_awaitable));
      if (l->closed) co_return;
      auto it = l->flows.find(client);
      if (it == l->flows.end() || it->second.upstream != upstream) co_return;
      if (r.index() == 1) {
        if (std::chrono::steady_clock::now() - it->second.last_active < kUdpFlowIdle) continue;
        upstream->close(ec);
        l->flows.erase(it);
        co_return;
      }
      if (ec) {
        // ECONNREFUSED: nothing listens in the container yet; the flow stays.
        if (ec == asio::error::connection_refused) continue;
        upstream->close(ec);
        l->flows.erase(it);
        co_return;
      }
      it->second.last_active = std::chrono::steady_clock::now();
      co_await l->socket.async_send_to(asio::buffer(buf, std::get<0>(r)), client,
                                       asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  asio::awaitable<void> udp_loop(std::shared_ptr<UdpListener> l) {
    char buf[65536];
    for (;;) {
      udp::endpoint client;
      boost::system::error_code ec;
      size_t n = co_await l->socket.async_receive_from(asio::buffer(buf), client,
                                                       asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || l->closed) co_return;
      if (ec) continue;
      auto it = l->flows.find(client);
      if (it == l->flows.end()) {
        auto table = groups ? groups() : nullptr;
        ec2::Connection c{.source = to_ip(client.address()),
                          .source_groups = {},
                          .destination = l->address,
                          .destination_groups = l->spec.destination_groups,
                          .protocol = ec2::IpProtocol::udp(),
                          .port = l->spec.host_port};
        if (!table || !ec2::connection_allowed(c, *table) || l->flows.size() >= kMaxUdpFlows) {
          dropped->fetch_add(1);
          continue;
        }
        int fd = socket_in_netns(l->netns_fd, AF_INET, SOCK_DGRAM);
        if (fd < 0) continue;
        auto upstream = std::make_shared<udp::socket>(io);
        upstream->assign(udp::v4(), fd, ec);
        if (!ec) upstream->connect(udp::endpoint(asio::ip::address_v4::loopback(), l->spec.container_port), ec);
        if (ec) {
          upstream->close(ec);
          continue;
        }
        it = l->flows.emplace(client, UdpListener::Flow{upstream, std::chrono::steady_clock::now()}).first;
        asio::co_spawn(io, udp_replies(l, client, upstream), asio::detached);
      }
      it->second.last_active = std::chrono::steady_clock::now();
      // A container not listening yet answers ICMP refused: the datagram is lost, as on AWS.
      it->second.upstream->send(asio::buffer(buf, n), 0, ec);
    }
  }

  asio::awaitable<void> accept_loop(std::shared_ptr<Listener> l) {
    for (;;) {
      auto client = std::make_shared<tcp::socket>(io);
      boost::system::error_code ec;
      co_await l->acceptor.async_accept(*client, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !l->acceptor.is_open()) co_return;
      if (ec) continue;
      l->track(client);
      asio::co_spawn(io, serve(l, client), asio::detached);
    }
  }
};

Forwarders::Forwarders(SecurityGroupSource groups)
    : dropped_(std::make_shared<std::atomic<uint64_t>>(0)), impl_(std::make_unique<Impl>()) {
  impl_->groups = std::move(groups);
  impl_->dropped = dropped_;
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

Forwarders::~Forwarders() {
  std::vector<std::string> owners;
  {
    std::lock_guard lock(impl_->mutex);
    for (const auto& [o, l] : impl_->listeners) owners.push_back(o);
    for (const auto& [o, l] : impl_->udp_listeners) owners.push_back(o);
    impl_->routes.clear();
  }
  for (const auto& o : owners) close_owner(o);
  impl_->work.reset();
  impl_->io.stop();
  impl_->thread.join();
}

Status Forwarders::listen_udp(const ListenerSpec& spec) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(spec.bind_ip, ec);
  if (ec) return Error::invalid("InvalidAddress", "not an IP address: " + spec.bind_ip);
  auto l = std::make_shared<UdpListener>(impl_->io, spec);
  l->address = to_ip(address);
  l->netns_fd = open_netns(spec.netns_name);
  if (l->netns_fd < 0) return Error::internal("network namespace " + spec.netns_name + " is gone");
  udp::endpoint endpoint(address, spec.host_port);
  l->socket.open(endpoint.protocol(), ec);
  if (!ec) l->socket.bind(endpoint, ec);
  if (ec == asio::error::address_in_use)
    return Error::conflict("PortInUse", spec.bind_ip + ":" + std::to_string(spec.host_port) + "/udp is in use");
  if (ec == boost::system::errc::address_not_available)
    return Error::invalid("InvalidAddress", spec.bind_ip + " is not an address of this host");
  if (ec) return Error::internal("bind " + spec.bind_ip + ":" + std::to_string(spec.host_port) + "/udp: " + ec.message());
  {
    std::lock_guard lock(impl_->mutex);
    impl_->udp_listeners.emplace(spec.owner, l);
  }
  asio::co_spawn(impl_->io, impl_->udp_loop(l), asio::detached);
  return Ok{};
}

Status Forwarders::listen(const ListenerSpec& spec) {
  if (spec.protocol == "udp") return listen_udp(spec);
  boost::system::error_code ec;
  auto address = asio::ip::make_address(spec.bind_ip, ec);
  if (ec) return Error::invalid("InvalidAddress", "not an IP address: " + spec.bind_ip);
  auto l = std::make_shared<Listener>(impl_->io, spec);
  l->address = to_ip(address);
  l->netns_fd = open_netns(spec.netns_name);
  if (l->netns_fd < 0) return Error::internal("network namespace " + spec.netns_name + " is gone");
  tcp::endpoint endpoint(address, spec.host_port);
  l->acceptor.open(endpoint.protocol(), ec);
  if (!ec) l->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) l->acceptor.bind(endpoint, ec);
  if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec == asio::error::address_in_use)
    return Error::conflict("PortInUse", spec.bind_ip + ":" + std::to_string(spec.host_port) + " is in use");
  if (ec == boost::system::errc::address_not_available)
    return Error::invalid("InvalidAddress", spec.bind_ip + " is not an address of this host");
  if (ec) return Error::internal("listen " + spec.bind_ip + ":" + std::to_string(spec.host_port) + ": " + ec.message());
  {
    std::lock_guard lock(impl_->mutex);
    impl_->listeners.emplace(spec.owner, l);
  }
  asio::co_spawn(impl_->io, impl_->accept_loop(l), asio::detached);
  return Ok{};
}

void Forwarders::add_route(const ListenerSpec& spec) {
  int fd = open_netns(spec.netns_name);
  auto holder = std::shared_ptr<int>(new int(fd), [](int* p) {
    if (*p >= 0) ::close(*p);
    delete p;
  });
  std::lock_guard lock(impl_->mutex);
  impl_->routes[{spec.bind_ip, spec.host_port}] = {spec, std::move(holder)};
}

Result<PrivateRoute> Forwarders::open_route(const std::string& ip, uint16_t port, const ec2::IpAddress& source,
                                            std::span<const ec2::GroupId> source_groups) {
  Impl::Route route;
  {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->routes.find({ip, port});
    if (it == impl_->routes.end())
      return Error::not_found("NoRoute", "nothing published at " + ip + ":" + std::to_string(port));
    route = it->second;
  }
  auto destination = ec2::IpAddress::parse(ip);
  auto table = impl_->groups ? impl_->groups() : nullptr;
  ec2::Connection c{.source = source,
                    .source_groups = source_groups,
                    .destination = destination.value_or(ec2::IpAddress()),
                    .destination_groups = route.spec.destination_groups,
                    .protocol = ec2::IpProtocol::tcp(),
                    .port = port};
  if (!table || !ec2::connection_allowed(c, *table)) {
    dropped_->fetch_add(1);
    return Error{ErrorClass::kDenied, "ConnectionDropped", "dropped by security groups"};
  }
  int fd = socket_in_netns(*route.netns_fd, AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  if (fd < 0) return Error::unavailable("cannot open a socket in " + route.spec.netns_name);
  return PrivateRoute{fd, route.spec.container_port};
}

void Forwarders::close_owner(const std::string& owner) {
  std::vector<std::shared_ptr<Listener>> closing;
  std::vector<std::shared_ptr<UdpListener>> closing_udp;
  {
    std::lock_guard lock(impl_->mutex);
    for (auto it = impl_->routes.begin(); it != impl_->routes.end();)
      it = it->second.spec.owner == owner ? impl_->routes.erase(it) : std::next(it);
    auto [b, e] = impl_->listeners.equal_range(owner);
    for (auto it = b; it != e; ++it) closing.push_back(it->second);
    impl_->listeners.erase(b, e);
    auto [ub, ue] = impl_->udp_listeners.equal_range(owner);
    for (auto it = ub; it != ue; ++it) closing_udp.push_back(it->second);
    impl_->udp_listeners.erase(ub, ue);
  }
  if (closing.empty() && closing_udp.empty()) return;
  std::promise<void> done;
  asio::post(impl_->io, [&] {
    for (auto& l : closing) l->close_all();
    for (auto& l : closing_udp) l->close_all();
    done.set_value();
  });
  // The io thread never calls close_owner, so this cannot wait on itself.
  done.get_future().wait();
}

size_t Forwarders::listener_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->listeners.size() + impl_->udp_listeners.size() + impl_->routes.size();
}

}  // namespace berth::runtime
