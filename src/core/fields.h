// Named fields of a struct, listed once, for a writer and a reader that walk the same list (so
// a key cannot be written under one name and read under another):
//
//   template <typename C, typename F>  // C: Sizes or const Sizes
//   void sizes_fields(C& s, F&& f) { for_each_field(f, field("width", s.width), field("depth", s.depth)); }
//   sizes_fields(sizes, [&](const char* key, const auto& value) { j[key] = value; });  // write
//   sizes_fields(sizes, [&](const char* key, auto& value) { read(j, key, value); });   // read
#pragma once

namespace cervirisk {

template <typename T>
struct Field {
  const char* key;
  T& value;
};

template <typename T>
Field<T> field(const char* key, T& value) {
  return {key, value};
}

// f(key, value) for each field, in order.
template <typename F, typename... T>
void for_each_field(F&& f, Field<T>... fields) {
  (f(fields.key, fields.value), ...);
}

}  // namespace cervirisk
