#include "schema/catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

namespace causeway::schema {
namespace {

using ::testing::HasSubstr;

const std::string kPaymentV1 =
    R"({"type":"record","name":"Payment","fields":[{"name":"amount","type":"double"}]})";
const std::string kPaymentV2 = R"({"type":"record","name":"Payment","fields":[
  {"name":"amount","type":"double"},{"name":"currency","type":"string","default":"EUR"}]})";

struct Folder {
  std::map<std::string, std::string> files;

  Catalog load(std::vector<config::ConfigError>& errors) const {
    return Catalog::load(
        "cat",
        [this](const std::string& path) -> std::optional<std::string> {
          auto it = files.find(path);
          return it == files.end() ? std::nullopt : std::optional<std::string>(it->second);
        },
        errors);
  }
};

std::string allErrors(const std::vector<config::ConfigError>& errors) {
  std::string out;
  for (const auto& e : errors) {
    out += "\n  " + e.str();
  }
  return out.empty() ? "(none)" : out;
}

Folder paymentsFolder() {
  Folder folder;
  folder.files["index.yaml"] = R"(schemas:
  - {id: 1, subject: payments-value, file: payment-v1.avsc}
  - {id: 2, subject: payments-value, file: payment-v2.avsc}
  - {id: 10, subject: money.proto, file: money.proto, guid: 6f1c8f3a-0f2e-4c35-9d1a-2b3c4d5e6f70}
  - id: 11
    subject: orders-value
    file: orders.proto
    references: [{name: money.proto, subject: money.proto}]
  - {id: 20, subject: profile-value, file: profile.json}
)";
  folder.files["payment-v1.avsc"] = kPaymentV1;
  folder.files["payment-v2.avsc"] = kPaymentV2;
  folder.files["money.proto"] =
      "syntax = \"proto3\";\npackage acme;\nmessage Money { int64 units = 1; }\n";
  folder.files["orders.proto"] = "syntax = \"proto3\";\npackage acme;\nimport \"money.proto\";\n"
                                 "message Order { Money total = 1; }\n";
  folder.files["profile.json"] = R"({"type":"object","properties":{"name":{"type":"string"}}})";
  return folder;
}

TEST(SchemaCatalog, LoadsEntriesWithVersionsTypesAndReferences) {
  std::vector<config::ConfigError> errors;
  const Catalog catalog = paymentsFolder().load(errors);
  ASSERT_TRUE(errors.empty()) << allErrors(errors);
  ASSERT_EQ(catalog.entries().size(), 5u);

  const CatalogEntry* latest = catalog.byVersion("payments-value", 0);
  ASSERT_NE(latest, nullptr);
  EXPECT_EQ(latest->registered.id, 2u);
  EXPECT_EQ(latest->registered.version, 2);
  EXPECT_EQ(catalog.byVersion("payments-value", 1)->registered.id, 1u);
  EXPECT_EQ(catalog.byId(11)->registered.schema.type, SchemaType::kProtobuf);
  EXPECT_EQ(catalog.byId(20)->registered.schema.type, SchemaType::kJson);
  ASSERT_EQ(catalog.byId(11)->registered.schema.references.size(), 1u);
  EXPECT_EQ(catalog.byId(11)->registered.schema.references[0].version, 1)
      << "a reference without a version means the latest";
  Guid guid;
  ASSERT_TRUE(parseGuid("6f1c8f3a-0f2e-4c35-9d1a-2b3c4d5e6f70", guid));
  EXPECT_EQ(catalog.byGuid(guid)->registered.id, 10u);
}

TEST(SchemaCatalog, IsARegistryThatCannotTakeNewSchemas) {
  std::vector<config::ConfigError> errors;
  auto catalog = std::make_shared<const Catalog>(paymentsFolder().load(errors));
  CatalogRegistry registry("local", catalog);
  auto schema = registry.schemaById(1, "");
  ASSERT_TRUE(schema.ok());
  EXPECT_EQ(schema->text, kPaymentV1);
  EXPECT_EQ(registry.schemaById(3, "").error().code, RegistryErrc::kNotFound);
  EXPECT_EQ(registry.subjectVersion("payments-value", 0)->id, 2u);

  // The same schema (formatting aside) is found and "registered" under its ID.
  Schema reformatted{SchemaType::kAvro, " " + kPaymentV1 + "\n", {}, {}, {}};
  auto id = registry.registerSchema("payments-value", reformatted);
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(*id, 1u);

  Schema other{SchemaType::kAvro, R"("string")", {}, {}, {}};
  auto refused = registry.registerSchema("payments-value", other);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, RegistryErrc::kRejected);
  EXPECT_THAT(refused.error().message, HasSubstr("read-only"));
  EXPECT_THAT(refused.error().message, HasSubstr("index.yaml"));
  auto compatible = registry.checkCompatibility("payments-value", other);
  ASSERT_TRUE(compatible.ok());
  EXPECT_FALSE(compatible->compatible);
  EXPECT_TRUE(registry.checkCompatibility("new-subject", other)->compatible);
}

TEST(SchemaCatalog, SyntaxErrorsPointIntoTheSchemaFile) {
  Folder folder = paymentsFolder();
  folder.files["payment-v2.avsc"] = "{\"type\": \"record\",\n  \"name\": Payment}";
  folder.files["orders.proto"] = "syntax = \"proto3\";\nmessage Order {\n  int64 = 1;\n}\n";
  std::vector<config::ConfigError> errors;
  const Catalog catalog = folder.load(errors);
  ASSERT_EQ(errors.size(), 2u) << allErrors(errors);
  EXPECT_EQ(errors[0].location.file, "cat/payment-v2.avsc");
  EXPECT_EQ(errors[0].location.line, 2);
  EXPECT_EQ(errors[0].location.column, 11);
  EXPECT_THAT(errors[0].message, HasSubstr("not valid JSON"));
  EXPECT_EQ(errors[1].location.file, "cat/orders.proto");
  EXPECT_EQ(errors[1].location.line, 3);
  EXPECT_THAT(errors[1].message, HasSubstr("not a valid .proto file"));
}

TEST(SchemaCatalog, IndexProblemsHaveLineAndColumn) {
  Folder folder = paymentsFolder();
  folder.files["index.yaml"] = R"(schemas:
  - {id: 1, subject: payments-value, file: payment-v1.avsc}
  - {id: 1, subject: other-value, file: payment-v2.avsc}
  - {id: 3, subject: payments-value, file: payment-v2.avsc, version: 1}
  - {id: x, subject: s, file: payment-v1.avsc}
  - {id: 4, subject: s, file: missing.avsc}
  - {id: 5, subject: s, file: notes.txt}
  - {id: 6, subject: s, file: ../outside.avsc}
  - {id: 7, subject: s, file: payment-v1.avsc, references: [{name: n, subject: nope}]}
  - {id: 8, subject: s, file: payment-v1.avsc, colour: blue}
)";
  std::vector<config::ConfigError> errors;
  (void)folder.load(errors);
  ASSERT_EQ(errors.size(), 8u) << allErrors(errors);
  EXPECT_EQ(errors[0].location.line, 3);
  EXPECT_THAT(errors[0].message, HasSubstr("ID 1 is already used by payment-v1.avsc"));
  EXPECT_EQ(errors[1].location.line, 4);
  EXPECT_THAT(errors[1].message, HasSubstr("version 1 is already defined at line 2"));
  EXPECT_EQ(errors[2].location.line, 5);
  EXPECT_THAT(errors[2].message, HasSubstr("expected an integer"));
  EXPECT_EQ(errors[3].location.line, 6);
  EXPECT_THAT(errors[3].message, HasSubstr("cannot read 'cat/missing.avsc'"));
  EXPECT_EQ(errors[4].location.line, 7);
  EXPECT_THAT(errors[4].message, HasSubstr(".avsc (Avro), .proto (Protobuf) or .json"));
  EXPECT_EQ(errors[5].location.line, 8);
  EXPECT_THAT(errors[5].message, HasSubstr("inside the catalog folder"));
  EXPECT_EQ(errors[6].location.line, 9);
  EXPECT_THAT(errors[6].message, HasSubstr("references subject 'nope'"));
  EXPECT_EQ(errors[7].location.line, 10);
  EXPECT_THAT(errors[7].message, HasSubstr("unknown key 'colour'"));
  for (const auto& e : errors) {
    EXPECT_EQ(e.location.file, "cat/index.yaml") << e.str();
  }
}

TEST(SchemaCatalog, MissingIndexAndBrokenYaml) {
  Folder empty;
  std::vector<config::ConfigError> errors;
  (void)empty.load(errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message, HasSubstr("cannot read the catalog index"));
  Folder broken;
  broken.files["index.yaml"] = "schemas: [\n  {id: 1,\n";
  errors.clear();
  (void)broken.load(errors);
  ASSERT_EQ(errors.size(), 1u) << allErrors(errors);
  EXPECT_THAT(errors[0].message, HasSubstr("YAML syntax error"));
}

}  // namespace
}  // namespace causeway::schema
