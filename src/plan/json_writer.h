// A minimal JSON writer: objects, arrays, strings, numbers, booleans.
// Enough for the Plan; keys are written in the order given.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aisbx::plan {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(const std::string& k);
  JsonWriter& value(const std::string& s);
  JsonWriter& value(const char* s) { return value(std::string(s)); }
  JsonWriter& value(std::int64_t n);
  JsonWriter& value(int n) { return value(static_cast<std::int64_t>(n)); }
  JsonWriter& value(bool b);
  JsonWriter& null();
  JsonWriter& strings(const std::vector<std::string>& v);
  std::string str() const { return out_ + "\n"; }

 private:
  void separate();
  std::string out_;
  std::vector<bool> first_;  // per open container: nothing written yet
  bool after_key_ = false;
};

std::string json_escape(const std::string& s);

}  // namespace aisbx::plan
