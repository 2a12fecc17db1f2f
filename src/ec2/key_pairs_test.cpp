// Key pairs: real keys that OpenSSL and OpenSSH read, fingerprints as the
// openssl and ssh-keygen tools compute them, the API's errors.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ec2/ec2_test_support.h"
#include "ec2/key_crypto.h"

namespace berth::ec2::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "berth-ec2-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp");
    path_ = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& content) {
    std::string p = (path_ / name).string();
    std::ofstream(p) << content;
    std::filesystem::permissions(p, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return p;
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::string run(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string after_equals(const std::string& s) { return s.substr(s.find("= ") + 2); }

std::string xml_unescape(std::string s) {
  for (auto [from, to] : {std::pair<std::string, std::string>{"&#13;", "\r"}, {"&lt;", "<"}, {"&gt;", ">"},
                          {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}}) {
    size_t pos = 0;
    while ((pos = s.find(from, pos)) != std::string::npos) s.replace(pos, from.size(), to), pos += to.size();
  }
  return s;
}

TEST_F(Ec2Test, CreateRsaKeyPair) {
  auto xml = ok("CreateKeyPair", "KeyName=my-key");
  EXPECT_EQ(text(xml, "keyName"), "my-key");
  std::string id = text(xml, "keyPairId");
  EXPECT_EQ(id.rfind("key-", 0), 0u);
  EXPECT_EQ(id.size(), 4 + 17u);
  std::string pem = xml_unescape(text(xml, "keyMaterial"));
  EXPECT_EQ(pem.rfind("-----BEGIN RSA PRIVATE KEY-----\n", 0), 0u);
  EXPECT_THAT(pem, HasSubstr("-----END RSA PRIVATE KEY-----"));

  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_RSA);
  EXPECT_EQ(EVP_PKEY_get_bits(key), 2048);
  EVP_PKEY_free(key);

  // The fingerprint AWS documents for created RSA keys: SHA-1 of the DER PKCS#8 key.
  TempDir dir;
  std::string file = dir.write("k.pem", pem);
  std::string expected =
      after_equals(run("openssl pkcs8 -in " + file + " -inform PEM -outform DER -topk8 -nocrypt | openssl sha1 -c"));
  EXPECT_EQ(expected.size(), 59u);
  EXPECT_EQ(text(xml, "keyFingerprint"), expected);
  // OpenSSH reads it and agrees on the public key that Describe returns.
  std::string pub = run("ssh-keygen -y -f " + file);
  auto described = ok("DescribeKeyPairs", "KeyName.1=my-key&IncludePublicKey=true");
  EXPECT_EQ(text(described, "publicKey"), pub + " my-key");
  EXPECT_EQ(text(described, "keyFingerprint"), expected);
  EXPECT_EQ(text(described, "keyType"), "rsa");
  EXPECT_EQ(text(described, "createTime"), "2027-01-15T08:00:00.000Z");
  // The material is not kept anywhere.
  EXPECT_THAT(described, ::testing::Not(HasSubstr("PRIVATE")));
  EXPECT_EQ(text(ok("DescribeKeyPairs"), "publicKey"), "");
}

TEST_F(Ec2Test, CreateEd25519KeyPair) {
  auto xml = ok("CreateKeyPair", "KeyName=ed&KeyType=ed25519&KeyFormat=pem");
  std::string pem = xml_unescape(text(xml, "keyMaterial"));
  EXPECT_EQ(pem.rfind("-----BEGIN OPENSSH PRIVATE KEY-----\n", 0), 0u);
  TempDir dir;
  std::string file = dir.write("ed", pem);
  std::string pub = run("ssh-keygen -y -f " + file + " 2>&1");
  EXPECT_EQ(pub.rfind("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", 0), 0u) << pub;
  // ssh-keygen -l prints "256 SHA256:<unpadded base64> comment (ED25519)"; EC2 prints the padded base64.
  std::string line = run("ssh-keygen -l -f " + file);
  std::string ssh_fp = line.substr(line.find("SHA256:") + 7);
  ssh_fp = ssh_fp.substr(0, ssh_fp.find(' '));
  EXPECT_EQ(text(xml, "keyFingerprint"), ssh_fp + "=");
  EXPECT_EQ(text(ok("DescribeKeyPairs", "KeyName.1=ed"), "keyType"), "ed25519");
  EXPECT_EQ(text(ok("DescribeKeyPairs", "KeyName.1=ed&IncludePublicKey=true"), "publicKey"), pub + " ed");
}

TEST_F(Ec2Test, KeyPairErrors) {
  ok("CreateKeyPair", "KeyName=k");
  EXPECT_EQ(fails("CreateKeyPair", "KeyName=k"), "InvalidKeyPair.Duplicate: The keypair 'k' already exists.");
  EXPECT_EQ(fails("CreateKeyPair", ""), "MissingParameter: The request must contain the parameter KeyName");
  EXPECT_THAT(fails("CreateKeyPair", "KeyName=x&KeyType=dsa"), HasSubstr("InvalidParameterValue"));
  EXPECT_THAT(fails("CreateKeyPair", "KeyName=x&KeyFormat=ppk"), HasSubstr("InvalidParameterValue"));
  EXPECT_EQ(fails("DescribeKeyPairs", "KeyName.1=nope"), "InvalidKeyPair.NotFound: The key pair 'nope' does not exist");
  EXPECT_THAT(fails("DescribeKeyPairs", "KeyPairId.1=key-00000000000000000"), HasSubstr("InvalidKeyPair.NotFound"));
  EXPECT_THAT(fails("ImportKeyPair", "KeyName=i&PublicKeyMaterial=" + form_escape(base64_encode("ssh-rsa garbage"))),
              HasSubstr("InvalidKey.Format"));
  EXPECT_THAT(fails("ImportKeyPair", "KeyName=i&PublicKeyMaterial=%21%21%21"), HasSubstr("InvalidKey.Format"));
  EXPECT_EQ(fails("ImportKeyPair", "KeyName=i"),
            "MissingParameter: The request must contain the parameter PublicKeyMaterial");
}

TEST_F(Ec2Test, ImportKeyPairs) {
  TempDir dir;
  run("ssh-keygen -q -t rsa -b 2048 -N '' -C me@host -f " + dir.path("rsa"));
  run("ssh-keygen -q -t ed25519 -N '' -C me@host -f " + dir.path("ed"));
  std::ifstream rsa_in(dir.path("rsa.pub")), ed_in(dir.path("ed.pub"));
  std::string rsa_pub((std::istreambuf_iterator<char>(rsa_in)), {}), ed_pub((std::istreambuf_iterator<char>(ed_in)), {});
  ASSERT_FALSE(rsa_pub.empty());
  // fileb:// material: the CLI sends the file's bytes base64-encoded.
  auto xml = ok("ImportKeyPair", "KeyName=imported&PublicKeyMaterial=" + form_escape(base64_encode(rsa_pub)));
  std::string expected = after_equals(
      run("ssh-keygen -e -m PKCS8 -f " + dir.path("rsa.pub") + " | openssl pkey -pubin -outform DER | openssl md5 -c"));
  EXPECT_EQ(expected.size(), 47u);
  EXPECT_EQ(text(xml, "keyFingerprint"), expected);
  EXPECT_EQ(text(xml, "keyPairId").rfind("key-", 0), 0u);
  EXPECT_EQ(text(xml, "keyMaterial"), "");

  xml = ok("ImportKeyPair", "KeyName=ed&PublicKeyMaterial=" + form_escape(base64_encode(ed_pub)) +
                                "&TagSpecification.1.ResourceType=key-pair&TagSpecification.1.Tag.1.Key=team&"
                                "TagSpecification.1.Tag.1.Value=a");
  std::string line = run("ssh-keygen -l -f " + dir.path("ed.pub"));
  std::string ssh_fp = line.substr(line.find("SHA256:") + 7);
  EXPECT_EQ(text(xml, "keyFingerprint"), ssh_fp.substr(0, ssh_fp.find(' ')) + "=");
  EXPECT_EQ(text(xml, "value"), "a");
  EXPECT_THAT(fails("ImportKeyPair", "KeyName=ed&PublicKeyMaterial=" + form_escape(base64_encode(ed_pub))),
              HasSubstr("InvalidKeyPair.Duplicate"));

  auto all = ok("DescribeKeyPairs");
  EXPECT_THAT(texts(all, "keyName"), ElementsAre("imported", "ed"));
  EXPECT_THAT(texts(ok("DescribeKeyPairs", "Filter.1.Name=key-type&Filter.1.Value.1=ed25519"), "keyName"),
              ElementsAre("ed"));
  EXPECT_THAT(texts(ok("DescribeKeyPairs", "Filter.1.Name=tag:team&Filter.1.Value.1=a"), "keyName"), ElementsAre("ed"));
  EXPECT_THAT(texts(ok("DescribeKeyPairs", "Filter.1.Name=key-name&Filter.1.Value.1=imp*"), "keyName"),
              ElementsAre("imported"));
  std::string ed_id = texts(all, "keyPairId")[1];
  EXPECT_THAT(texts(ok("DescribeKeyPairs", "KeyPairId.1=" + ed_id), "keyName"), ElementsAre("ed"));
}

TEST_F(Ec2Test, DeleteKeyPair) {
  std::string id = text(ok("CreateKeyPair", "KeyName=k&KeyType=ed25519"), "keyPairId");
  auto xml = ok("DeleteKeyPair", "KeyName=k");
  EXPECT_EQ(text(xml, "return"), "true");
  EXPECT_EQ(text(xml, "keyPairId"), id);
  // EC2 answers success for a key that is not there.
  EXPECT_EQ(text(ok("DeleteKeyPair", "KeyName=k"), "return"), "true");
  EXPECT_THAT(fails("DescribeKeyPairs", "KeyName.1=k"), HasSubstr("InvalidKeyPair.NotFound"));
  id = text(ok("CreateKeyPair", "KeyName=k2&KeyType=ed25519"), "keyPairId");
  ok("DeleteKeyPair", "KeyPairId=" + id);
  EXPECT_EQ(texts(ok("DescribeKeyPairs"), "keyName").size(), 0u);
  // The name can be reused.
  ok("CreateKeyPair", "KeyName=k&KeyType=ed25519");
  EXPECT_THAT(fails("DeleteKeyPair", ""), HasSubstr("MissingParameter"));
}

TEST(KeyCrypto, Base64RoundTrip) {
  for (std::string s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    auto decoded = base64_decode(base64_encode(s));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, s);
  }
  EXPECT_FALSE(base64_decode("abc").has_value());
  EXPECT_FALSE(base64_decode("ab c").has_value());
}

}  // namespace
}  // namespace berth::ec2::testing
