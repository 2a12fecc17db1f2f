// A UDP echo server for the runtime's UDP tests (busybox has none): answers
// each datagram on 0.0.0.0:PORT with "echo:" and the datagram. Static, so
// it runs in the busybox container it is bound into.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: udp-echo PORT\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[1])));
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    std::perror("udp-echo: bind");
    return 1;
  }
  std::printf("udp-echo listening on %s\n", argv[1]);
  std::fflush(stdout);
  char in[2048], out[2100];
  for (;;) {
    sockaddr_in peer{};
    socklen_t peer_len = sizeof peer;
    ssize_t n = recvfrom(fd, in, sizeof in, 0, reinterpret_cast<sockaddr*>(&peer), &peer_len);
    if (n < 0) continue;
    std::memcpy(out, "echo:", 5);
    std::memcpy(out + 5, in, static_cast<size_t>(n));
    sendto(fd, out, static_cast<size_t>(n) + 5, 0, reinterpret_cast<sockaddr*>(&peer), peer_len);
  }
}
