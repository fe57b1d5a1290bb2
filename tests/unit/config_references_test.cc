// References in configuration values (config/references.h): the syntax of each form and its
// escape, the properties-file reader, resolution against a fake source, and the loader
// resolving them with file:line:col errors and registering what must be hidden.

#include "common/secrets.h"
#include "config/config_loader.h"
#include "config/references.h"
#include "config/yaml_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace causeway::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class FakeSource : public ReferenceSource {
public:
  std::optional<std::string> environment(const std::string& name) const override {
    auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional(it->second);
  }
  Result<std::string> readFile(const std::string& path) const override {
    ++reads;
    auto it = files.find(path);
    if (it == files.end()) {
      return Error{"No such file or directory"};
    }
    return it->second;
  }
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> files;
  mutable int reads = 0;
};

ValueTemplate parse(std::string_view text) {
  auto parsed = parseValueTemplate(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << (parsed.ok() ? "" : parsed.error().message);
  return parsed.ok() ? *parsed : ValueTemplate{};
}

std::string parseError(std::string_view text) {
  auto parsed = parseValueTemplate(text);
  EXPECT_FALSE(parsed.ok()) << text;
  return parsed.ok() ? "" : parsed.error().message;
}

// --- Syntax ---

TEST(ReferenceSyntax, PlainTextHasNoReference) {
  const auto value = parse("SASL_SSL");
  ASSERT_EQ(value.parts.size(), 1u);
  EXPECT_EQ(value.parts[0].literal, "SASL_SSL");
  EXPECT_FALSE(value.hasReferences());
  EXPECT_FALSE(mayHaveReferences("SASL_SSL"));
  EXPECT_EQ(parse("").parts.size(), 1u);
}

TEST(ReferenceSyntax, EachFormIsRecognised) {
  const auto env = parse("${env:KAFKA_PASSWORD}");
  ASSERT_EQ(env.parts.size(), 1u);
  ASSERT_TRUE(env.parts[0].reference);
  EXPECT_EQ(env.parts[0].reference->kind, ReferenceKind::kEnv);
  EXPECT_EQ(env.parts[0].reference->name, "KAFKA_PASSWORD");
  EXPECT_EQ(env.parts[0].reference->text, "${env:KAFKA_PASSWORD}");

  const auto whole = parse("${file:/run/secrets/kafka-password}");
  ASSERT_TRUE(whole.parts[0].reference);
  EXPECT_EQ(whole.parts[0].reference->kind, ReferenceKind::kFile);
  EXPECT_EQ(whole.parts[0].reference->name, "/run/secrets/kafka-password");
  EXPECT_EQ(whole.parts[0].reference->key, "");

  const auto keyed = parse("${file:/etc/kafka/client.properties:sasl.password}");
  ASSERT_TRUE(keyed.parts[0].reference);
  EXPECT_EQ(keyed.parts[0].reference->name, "/etc/kafka/client.properties");
  EXPECT_EQ(keyed.parts[0].reference->key, "sasl.password");

  const auto directory = parse("${directory:/var/run/secrets/kafka:password}");
  ASSERT_TRUE(directory.parts[0].reference);
  EXPECT_EQ(directory.parts[0].reference->kind, ReferenceKind::kDirectory);
  EXPECT_EQ(directory.parts[0].reference->name, "/var/run/secrets/kafka");
  EXPECT_EQ(directory.parts[0].reference->key, "password");
}

TEST(ReferenceSyntax, ReferencesMayBePartOfALongerValue) {
  const auto value = parse("user=\"${env:USER_X}\" password=\"${file:/s:pw}\";");
  ASSERT_EQ(value.parts.size(), 5u);
  EXPECT_EQ(value.parts[0].literal, "user=\"");
  EXPECT_EQ(value.parts[1].reference->name, "USER_X");
  EXPECT_EQ(value.parts[2].literal, "\" password=\"");
  EXPECT_EQ(value.parts[3].reference->key, "pw");
  EXPECT_EQ(value.parts[4].literal, "\";");
}

TEST(ReferenceSyntax, DollarDollarBraceIsALiteral) {
  const auto value = parse("$${env:NOT_A_REFERENCE} costs $$5 and $ more");
  ASSERT_EQ(value.parts.size(), 1u);
  EXPECT_FALSE(value.hasReferences());
  EXPECT_EQ(value.parts[0].literal, "${env:NOT_A_REFERENCE} costs $$5 and $ more");
  const auto mixed = parse("$${x}${env:Y}");
  ASSERT_EQ(mixed.parts.size(), 2u);
  EXPECT_EQ(mixed.parts[0].literal, "${x}");
  EXPECT_EQ(mixed.parts[1].reference->name, "Y");
}

TEST(ReferenceSyntax, MalformedReferencesSayWhatIsWrong) {
  EXPECT_THAT(parseError("pre ${env:X"), HasSubstr("without its closing '}'"));
  EXPECT_THAT(parseError("${FOO}"), HasSubstr("'${FOO}': not a reference"));
  EXPECT_THAT(parseError("${FOO}"), HasSubstr("write $${ for a literal ${"));
  EXPECT_THAT(parseError("${vault:secret/x}"), HasSubstr("unknown provider 'vault'"));
  EXPECT_THAT(parseError("${evn:X}"), HasSubstr("did you mean 'env'?"));
  EXPECT_THAT(parseError("${env:1X}"), HasSubstr("environment variable name"));
  EXPECT_THAT(parseError("${env:}"), HasSubstr("environment variable name"));
  EXPECT_THAT(parseError("${env:A-B}"), HasSubstr("environment variable name"));
  EXPECT_THAT(parseError("${file:secrets.properties}"), HasSubstr("must be absolute"));
  EXPECT_THAT(parseError("${file:}"), HasSubstr("the path is missing"));
  EXPECT_THAT(parseError("${file:/x:}"), HasSubstr("key after the path's ':' is empty"));
  EXPECT_THAT(parseError("${directory:/var/run/secrets}"), HasSubstr("names a file"));
  EXPECT_THAT(parseError("${directory:/d:a/b}"), HasSubstr("a file name in the folder"));
  EXPECT_THAT(parseError("${directory:/d:..}"), HasSubstr("a file name in the folder"));
  std::string many;
  for (size_t i = 0; i <= kMaxReferencesPerValue; ++i) {
    many += "${env:X}";
  }
  EXPECT_THAT(parseError(many), HasSubstr("more than 32 references"));
}

// --- Properties files ---

std::map<std::string, std::string> properties(std::string_view text) {
  auto parsed = parseProperties(text);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message);
  return parsed.ok() ? *parsed : std::map<std::string, std::string>{};
}

TEST(PropertiesFile, ReadsLikeJavaProperties) {
  const auto p = properties("# comment\n"
                            "! also a comment\n"
                            "   \n"
                            "a=1\n"
                            "b = two words \n"
                            "c:3\n"
                            "d 4\n"
                            "  e\t=\t5\n"
                            "empty=\n"
                            "bare\n"
                            "a=last wins\n");
  EXPECT_EQ(p.at("a"), "last wins");
  EXPECT_EQ(p.at("b"), "two words ");  // trailing blanks belong to the value, as in Java
  EXPECT_EQ(p.at("c"), "3");
  EXPECT_EQ(p.at("d"), "4");
  EXPECT_EQ(p.at("e"), "5");
  EXPECT_EQ(p.at("empty"), "");
  EXPECT_EQ(p.at("bare"), "");
  EXPECT_EQ(p.size(), 7u);
}

TEST(PropertiesFile, ContinuationsEscapesAndLineEnds) {
  const auto p = properties("long = first \\\n     second\\\r\n third\r"
                            "esc=tab\\there\\nnew\\\\slash\\:colon\r\n"
                            "key\\=with\\ equals=value=with=equals\n"
                            "uni=caf\\u00e9 \\uD83D\\uDE00\n"
                            "odd=ends with two \\\\\n"
                            "next=line");
  EXPECT_EQ(p.at("long"), "first secondthird");  // continuation lines lose leading blanks
  EXPECT_EQ(p.at("esc"), "tab\there\nnew\\slash:colon");
  EXPECT_EQ(p.at("key=with equals"), "value=with=equals");
  EXPECT_EQ(p.at("uni"), "caf\xc3\xa9 \xf0\x9f\x98\x80");
  EXPECT_EQ(p.at("odd"), "ends with two \\");
  EXPECT_EQ(p.at("next"), "line");
}

TEST(PropertiesFile, MalformedEscapesNameTheLineNotTheValue) {
  auto bad = parseProperties("ok=1\n\npassword=hunter2\\u12G4\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr("line 3"));
  EXPECT_THAT(bad.error().message, Not(HasSubstr("hunter2")));
  EXPECT_FALSE(parseProperties("x=\\uD83D alone").ok());
  EXPECT_FALSE(parseProperties("x=\\uDE00").ok());
  EXPECT_FALSE(parseProperties("x=\\u12").ok());
}

// --- Resolution ---

TEST(ReferenceResolver, ResolvesEachFormAndTrimsLineEnds) {
  FakeSource source;
  source.env["PW"] = "from-env";
  source.files["/s/whole"] = "whole-file-secret\r\n\n";
  source.files["/s/client.properties"] = "sasl.username=alice\nsasl.password=props-secret\n";
  source.files["/k8s/kafka/password"] = "k8s-secret\n";
  ReferenceResolver resolver(source);
  auto resolved = resolver.resolve(
      parse("${env:PW}|${file:/s/whole}|${file:/s/client.properties:sasl.password}|"
            "${directory:/k8s/kafka:password}|${directory:/k8s/kafka/:password}"));
  ASSERT_TRUE(resolved.ok()) << resolved.error().message;
  EXPECT_EQ(resolved->value, "from-env|whole-file-secret|props-secret|k8s-secret|k8s-secret");
  EXPECT_EQ(resolved->from_references,
            (std::vector<std::string>{"from-env", "whole-file-secret", "props-secret", "k8s-secret",
                                      "k8s-secret"}));
}

TEST(ReferenceResolver, ReadsEachFileOncePerLoad) {
  FakeSource source;
  source.files["/s/client.properties"] = "a=1\nb=2\n";
  ReferenceResolver resolver(source);
  ASSERT_TRUE(resolver.resolve(parse("${file:/s/client.properties:a}")).ok());
  ASSERT_TRUE(resolver.resolve(parse("${file:/s/client.properties:b}")).ok());
  source.files["/s/client.properties"] = "a=changed\n";
  auto again = resolver.resolve(parse("${file:/s/client.properties:a}"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->value, "1");  // one load sees one version of the file
  EXPECT_EQ(source.reads, 1);
  ReferenceResolver next_load(source);
  EXPECT_EQ(next_load.resolve(parse("${file:/s/client.properties:a}"))->value, "changed");
}

TEST(ReferenceResolver, MissingPiecesAreErrorsThatNameTheReference) {
  FakeSource source;
  source.files["/s/client.properties"] = "sasl.username=alice\nsasl.password=props-secret\n";
  source.files["/s/bad.properties"] = "x=\\uZZZZ\n";
  ReferenceResolver resolver(source);
  auto error = [&](const char* text) {
    auto resolved = resolver.resolve(parse(text));
    EXPECT_FALSE(resolved.ok()) << text;
    return resolved.ok() ? "" : resolved.error().message;
  };
  EXPECT_EQ(error("${env:NOT_SET}"),
            "'${env:NOT_SET}': the environment variable NOT_SET is not set");
  EXPECT_EQ(error("${file:/s/missing}"),
            "'${file:/s/missing}': cannot read /s/missing: No such file or directory");
  const std::string no_key = error("${file:/s/client.properties:sasl.pasword}");
  EXPECT_THAT(no_key, HasSubstr("/s/client.properties has no key 'sasl.pasword'"));
  EXPECT_THAT(no_key, HasSubstr("did you mean 'sasl.password'?"));
  EXPECT_THAT(no_key, Not(HasSubstr("props-secret")));
  EXPECT_THAT(error("${directory:/k8s/kafka:password}"),
              HasSubstr("cannot read /k8s/kafka/password"));
  EXPECT_THAT(error("${file:/s/bad.properties:x}"),
              HasSubstr("/s/bad.properties is not a valid properties file: line 1"));
}

TEST(SystemReferenceSource, ReadsRegularFilesOnly) {
  const auto& source = systemReferenceSource();
  EXPECT_FALSE(source.readFile("/").ok());
  EXPECT_THAT(source.readFile("/").error().message, HasSubstr("directory"));
  EXPECT_FALSE(source.readFile("/dev/null").ok());
  EXPECT_THAT(source.readFile("/dev/null").error().message, HasSubstr("not a regular file"));
  EXPECT_FALSE(source.readFile("/nonexistent/causeway").ok());
  ::setenv("CAUSEWAY_REFERENCE_TEST_VAR", "value-1", 1);
  EXPECT_EQ(source.environment("CAUSEWAY_REFERENCE_TEST_VAR"), "value-1");
  EXPECT_EQ(source.environment("CAUSEWAY_REFERENCE_TEST_UNSET"), std::nullopt);
}

// --- The loader ---

class LoaderReferencesTest : public ::testing::Test {
protected:
  void SetUp() override {
    secrets::clearRegisteredSecretsForTesting();
    dir_ = std::filesystem::temp_directory_path() /
           ("causeway-references-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "kafka-secret");
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    secrets::clearRegisteredSecretsForTesting();
  }
  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }
  // A configuration whose east cluster has the given properties block (indented 6).
  static std::string config(const std::string& properties) {
    return "clusters:\n"
           "  east:\n"
           "    bootstrap: 127.0.0.1:9092\n"
           "    properties:\n" +
           properties +
           "  west: {bootstrap: \"127.0.0.1:9093\"}\n"
           "links:\n"
           "  - {name: l, source: east, target: west, topics: {include: [orders]}}\n";
  }

  std::filesystem::path dir_;
};

TEST_F(LoaderReferencesTest, PropertiesComeFromEnvFilesAndFolders) {
  ::setenv("CW_TEST_SASL_USER", "svc-causeway", 1);
  const auto props = write("client.properties", "sasl.password=pa55-from-file\n");
  write("kafka-secret/ssl.key.password", "key-pa55-from-folder\n");
  const auto loaded = loadConfigString(
      config("      sasl.username: ${env:CW_TEST_SASL_USER}\n"
             "      sasl.password: ${file:" +
             props +
             ":sasl.password}\n"
             "      ssl.key.password: ${directory:" +
             (dir_ / "kafka-secret").string() +
             ":ssl.key.password}\n"
             "      client.id: \"literal $${braces} for ${env:CW_TEST_SASL_USER}\"\n"),
      "refs.yaml");
  ASSERT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].str());
  const auto& p = loaded.config->clusters.at("east").properties;
  EXPECT_EQ(p.at("sasl.username"), "svc-causeway");
  EXPECT_EQ(p.at("sasl.password"), "pa55-from-file");
  EXPECT_EQ(p.at("ssl.key.password"), "key-pa55-from-folder");
  EXPECT_EQ(p.at("client.id"), "literal ${braces} for svc-causeway");
  // every value that came from a reference is hidden from now on
  const auto hidden = secrets::registeredSecrets();
  EXPECT_TRUE(hidden->contains("svc-causeway"));
  EXPECT_TRUE(hidden->contains("pa55-from-file"));
  EXPECT_TRUE(hidden->contains("key-pa55-from-folder"));
  EXPECT_FALSE(hidden->contains("literal ${braces} for svc-causeway"));  // not secret-named
}

TEST_F(LoaderReferencesTest, SecretNamedLiteralsAreHiddenToo) {
  const auto loaded = loadConfigString(config("      sasl.password: inline-pa55word\n"
                                              "      sasl.jaas.config: \"x password='jaas-pw';\"\n"
                                              "      security.protocol: SASL_SSL\n"),
                                       "refs.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.errors[0].str();
  const auto hidden = secrets::registeredSecrets();
  EXPECT_TRUE(hidden->contains("inline-pa55word"));
  EXPECT_TRUE(hidden->contains("x password='jaas-pw';"));
  EXPECT_FALSE(hidden->contains("SASL_SSL"));
}

TEST_F(LoaderReferencesTest, MissingPiecesAreErrorsWithLineAndColumnAndNothingLoads) {
  ::unsetenv("CW_TEST_NOT_SET");
  const auto props = write("client.properties", "sasl.username=alice\n");
  const auto loaded = loadConfigString(config("      sasl.password: ${env:CW_TEST_NOT_SET}\n"
                                              "      sasl.username: ${file:" +
                                              props +
                                              ":user}\n"
                                              "      ssl.key.password: ${file:" +
                                              (dir_ / "missing").string() +
                                              "}\n"
                                              "      ssl.key.pem: ${directory:" +
                                              (dir_ / "kafka-secret").string() +
                                              ":pem}\n"
                                              "      client.id: ${nope}\n"),
                                       "refs.yaml");
  EXPECT_FALSE(loaded.ok());
  EXPECT_FALSE(loaded.config.has_value());
  ASSERT_EQ(loaded.errors.size(), 5u);
  EXPECT_EQ(loaded.errors[0].str(),
            "refs.yaml:5:22: clusters.east.properties.sasl.password: '${env:CW_TEST_NOT_SET}': "
            "the environment variable CW_TEST_NOT_SET is not set");
  EXPECT_THAT(loaded.errors[1].str(), HasSubstr("refs.yaml:6:22: "));
  EXPECT_THAT(loaded.errors[1].str(), HasSubstr("has no key 'user'"));
  EXPECT_THAT(loaded.errors[2].str(), HasSubstr("refs.yaml:7:25: "));
  EXPECT_THAT(loaded.errors[2].str(), HasSubstr("No such file or directory"));
  EXPECT_THAT(loaded.errors[3].str(), HasSubstr("refs.yaml:8:20: "));
  EXPECT_THAT(loaded.errors[3].str(), HasSubstr("kafka-secret/pem"));
  EXPECT_THAT(loaded.errors[4].str(), HasSubstr("refs.yaml:9:18: "));
  EXPECT_THAT(loaded.errors[4].str(), HasSubstr("not a reference"));
}

TEST_F(LoaderReferencesTest, AnyValueMayBeAReferenceAndItsErrorsDoNotShowTheValue) {
  ::setenv("CW_TEST_TIMEOUT", "fifteen-seconds-secret", 1);
  ::setenv("CW_TEST_BOOTSTRAP", "127.0.0.1:9099", 1);
  const auto loaded = loadConfigString("clusters:\n"
                                       "  east:\n"
                                       "    bootstrap: ${env:CW_TEST_BOOTSTRAP}\n"
                                       "    connect_timeout: ${env:CW_TEST_TIMEOUT}\n"
                                       "  west: {bootstrap: \"127.0.0.1:9093\"}\n"
                                       "links: []\n",
                                       "refs.yaml");
  ASSERT_FALSE(loaded.ok());
  bool timeout_reported = false;
  for (const auto& error : loaded.errors) {
    EXPECT_THAT(error.str(), Not(HasSubstr("fifteen-seconds-secret")));
    if (error.str().find("refs.yaml:4:22:") != std::string::npos) {
      timeout_reported = true;
      EXPECT_THAT(error.str(), HasSubstr("found the value of '${env:CW_TEST_TIMEOUT}'"));
    }
  }
  EXPECT_TRUE(timeout_reported);
}

TEST_F(LoaderReferencesTest, ALoadAfterTheFileChangedSeesTheNewValue) {
  const auto path = write("password", "first-password\n");
  const std::string yaml = config("      sasl.password: ${file:" + path + "}\n");
  const auto first = loadConfigString(yaml, "refs.yaml");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.config->clusters.at("east").properties.at("sasl.password"), "first-password");
  write("password", "rotated-password\n");
  const auto second = loadConfigString(yaml, "refs.yaml");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second.config->clusters.at("east").properties.at("sasl.password"), "rotated-password");
  // the old value stays hidden: it may still be in a log line being written
  EXPECT_TRUE(secrets::registeredSecrets()->contains("first-password"));
  EXPECT_TRUE(secrets::registeredSecrets()->contains("rotated-password"));
}

TEST_F(LoaderReferencesTest, SecretFileKeysReadTheFileAndHideIt) {
  const auto path = write("token", "file-token-value-1\n");
  const YAML::Node root = YAML::Load(
      "token_file: " + path + "\nmissing: " + (dir_ / "nope").string() + "\nrelative: token\n");
  YamlReader reader("t.yaml");
  const auto entries = reader.entries(YamlReader::root(root));
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(reader.secretFile(entries[0].second), "file-token-value-1");
  EXPECT_EQ(reader.secretFile(entries[1].second), std::nullopt);
  EXPECT_EQ(reader.secretFile(entries[2].second), std::nullopt);
  const auto errors = reader.takeErrors();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_THAT(errors[0].str(), HasSubstr("t.yaml:2:10: missing: "));
  EXPECT_THAT(errors[0].str(), HasSubstr("No such file or directory"));
  EXPECT_THAT(errors[1].str(), HasSubstr("t.yaml:3:11: relative: expected an absolute path"));
  EXPECT_TRUE(secrets::registeredSecrets()->contains("file-token-value-1"));
}

}  // namespace
}  // namespace causeway::config
