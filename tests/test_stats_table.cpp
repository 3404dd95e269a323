// The CSV table reader (src/io/table.h).
#include <gtest/gtest.h>

#include "core/error.h"
#include "io/table.h"

using cervirisk::io::Table;

TEST(Table, ReadsQuotedCommaCsvWithBomAndMissing) {
  Table t = Table::parse_csv(
      "\xEF\xBB\xBF\"id\",\"name\",\"x\"\r\n1,\"a, \"\"b\"\"\",2.5\r\n2,,NA\r\n3,\"multi\nline\",-1e-3\r\n",
      "t.csv");
  EXPECT_EQ(t.column_names(), (std::vector<std::string>{"id", "name", "x"}));
  ASSERT_EQ(t.rows(), 3u);
  EXPECT_EQ(t.cell(0, 1), "a, \"b\"");
  EXPECT_TRUE(t.is_missing(1, 1));
  EXPECT_TRUE(t.is_missing(1, 2));
  EXPECT_EQ(t.cell(2, 1), "multi\nline");
  auto x = t.numeric_column("x");
  EXPECT_DOUBLE_EQ(*x[0], 2.5);
  EXPECT_FALSE(x[1].has_value());
  EXPECT_DOUBLE_EQ(*x[2], -1e-3);
  EXPECT_EQ(t.line_of(2), 4u);
}

TEST(Table, DetectsSemicolons) {
  Table t = Table::parse_csv("a;b\n1,5;2\n", "eu.csv");
  EXPECT_EQ(t.delimiter(), ';');
  EXPECT_EQ(t.cell(0, 0), "1,5");
  EXPECT_EQ(t.cell(0, 1), "2");
}

TEST(Table, ErrorsNameFileLineAndColumn) {
  Table t = Table::parse_csv("a,b\n1,2\n3,x7\n", "data.csv");
  try {
    t.numeric_column("b");
    FAIL();
  } catch (const cervirisk::FormatError& e) {
    EXPECT_STREQ(e.what(), "data.csv:3: column 'b': 'x7' is not a number");
  }
  try {
    t.column_index("c");
    FAIL();
  } catch (const cervirisk::ConfigError& e) {
    EXPECT_STREQ(e.what(), "data.csv: no column 'c' (columns: a, b)");
  }
  EXPECT_THROW(Table::parse_csv("a,b\n1\n", "short.csv"), cervirisk::FormatError);
  EXPECT_THROW(Table::parse_csv("a,b\n\"1,2\n", "open.csv"), cervirisk::FormatError);
  EXPECT_THROW(Table::parse_csv("a,a\n1,2\n", "dup.csv"), cervirisk::FormatError);
  EXPECT_THROW(Table::read_csv("/nonexistent/file.csv"), cervirisk::InputError);
}
