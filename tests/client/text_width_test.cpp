// Wide characters in the prompt: columns by wcwidth's rules, and wrapping where a wide
// character that does not fit in the last column moves whole to the next row.
#include <catch2/catch.hpp>
#include <string>

#include "prompt_view.hpp"
#include "text_width.hpp"

using namespace parley::client;

TEST_CASE("columns of characters: wide CJK and emoji, zero-width marks", "[client][editor]") {
  CHECK(char_columns(U'a') == 1);
  CHECK(char_columns(U'\u00e9') == 1);
  CHECK(char_columns(U'\u4e2d') == 2);      // 中
  CHECK(char_columns(U'\uac00') == 2);      // 가
  CHECK(char_columns(U'\uff21') == 2);      // fullwidth A
  CHECK(char_columns(U'\U0001F600') == 2);  // 😀
  CHECK(char_columns(U'\u0301') == 0);      // combining acute
  CHECK(char_columns(U'\u200d') == 0);      // zero-width joiner
  CHECK(text_columns("\xe4\xb8\xad\xe6\x96\x87"
                     "ab") == 6);                 // 中文ab
  CHECK(text_columns("e\xcc\x81") == 1);          // e + combining acute
  CHECK(text_columns("\xf0\x9f\x98\x80!") == 3);  // 😀!
  CHECK(text_columns("\xff\xfe") == 2);           // not UTF-8: a column per byte
}

TEST_CASE("a wide character at the edge moves whole to the next row", "[client][editor]") {
  const std::string zhong = "\xe4\xb8\xad";  // 中, two columns
  CHECK(text_end(zhong + zhong, 5).row == 0);
  CHECK(text_end(zhong + zhong, 5).column == 4);
  // The third would straddle columns 5 and 6: it starts row 1 and column 5 stays empty.
  CHECK(text_end(zhong + zhong + zhong, 5).row == 1);
  CHECK(text_end(zhong + zhong + zhong, 5).column == 2);
  // Exactly full: the row ends at the edge.
  CHECK(text_end("ab" + zhong + "c", 5).row == 0);
  CHECK(text_end("ab" + zhong + "c", 5).column == 5);
}

TEST_CASE("the prompt places the cursor right after wide characters", "[client][editor]") {
  const std::string zhong = "\xe4\xb8\xad";
  PromptView view;
  view.set_width(5);
  // "> 中" fills 4 columns; the second 中 goes to row 1, columns 0-1.
  CHECK(view.draw("> ", zhong + zhong, 2 * zhong.size()) ==
        "\r\x1b[K> " + zhong + zhong + "\r\x1b[2C");
  CHECK(view.clear() == "\x1b[1A\r\x1b[J");
  // The cursor after the first 中: row 0, column 4, one row up from the end.
  CHECK(view.draw("> ", zhong + zhong, zhong.size()) ==
        "\r\x1b[K> " + zhong + zhong + "\x1b[1A\r\x1b[4C");
  CHECK(view.clear() == "\r\x1b[J");
  // Emoji count two as well: "> 😀😀" is 6 columns, two rows at width 5.
  const std::string grin = "\xf0\x9f\x98\x80";
  CHECK(view.draw("> ", grin + grin, 2 * grin.size()) == "\r\x1b[K> " + grin + grin + "\r\x1b[2C");
}
