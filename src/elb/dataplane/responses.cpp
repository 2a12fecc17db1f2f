#include "elb/dataplane/responses.h"

namespace berth::elb::dp {
namespace {

std::string_view reason(unsigned status) {
  switch (status) {
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Not Allowed";
    case 408: return "Request Time-out";
    case 413: return "Request Entity Too Large";
    case 431: return "Request Header Fields Too Large";
    case 463: return "";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Temporarily Unavailable";
    case 504: return "Gateway Time-out";
    default: return "";
  }
}

std::string head(unsigned status, std::string_view content_type, size_t length, bool keep_alive) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason(status)) + "\r\n";
  out += "Server: awselb/2.0\r\n";
  if (!content_type.empty()) out += "Content-Type: " + std::string(content_type) + "\r\n";
  out += "Content-Length: " + std::to_string(length) + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  return out;
}

}  // namespace

std::string alb_error_body(unsigned status) {
  std::string title = std::to_string(status) + " " + std::string(reason(status));
  return "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title +
         "</h1></center>\r\n</body>\r\n</html>\r\n";
}

std::string alb_error_response(unsigned status, bool keep_alive) {
  std::string body = alb_error_body(status);
  return head(status, "text/html", body.size(), keep_alive) + body;
}

std::string fixed_response(unsigned status, std::string_view content_type, std::string_view body, bool keep_alive) {
  return head(status, content_type, body.size(), keep_alive) + std::string(body);
}

std::string redirect_response(unsigned status, std::string_view location, bool keep_alive) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason(status)) + "\r\n";
  out += "Server: awselb/2.0\r\nContent-Type: text/html\r\nLocation: " + std::string(location) + "\r\n";
  std::string body = alb_error_body(status);
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  return out + body;
}

}  // namespace berth::elb::dp
