// The YAML node tree of a profile file: what passes 1 and 2 of
// parse_profiles() make of the text (the costly part: yaml-cpp's scanner),
// and what pass 3, the schema, reads. profile/tree_cache.cc keeps it.
#pragma once

#include <yaml-cpp/mark.h>
#include <yaml-cpp/node/type.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "aisbx/profile.h"

namespace aisbx::profile {

// The part of a YAML node the schema reads, built from the parser's events
// (what YAML::LoadAll's node builder does, minus anchors, which pass 2
// refuses). A cheap handle: copies share the node.
class Node {
 public:
  struct Data {
    YAML::NodeType::value type = YAML::NodeType::Null;
    YAML::Mark mark = YAML::Mark::null_mark();
    std::string tag;
    std::string scalar;
    std::vector<Node> elements;              // a sequence
    std::vector<std::pair<Node, Node>> map;  // a map, in file order, duplicates kept
  };

  Node() : d_(std::make_shared<Data>()) {}
  explicit Node(std::shared_ptr<Data> d) : d_(std::move(d)) {}

  YAML::NodeType::value Type() const { return d_->type; }
  bool IsNull() const { return d_->type == YAML::NodeType::Null; }
  bool IsScalar() const { return d_->type == YAML::NodeType::Scalar; }
  bool IsSequence() const { return d_->type == YAML::NodeType::Sequence; }
  bool IsMap() const { return d_->type == YAML::NodeType::Map; }
  const std::string& Tag() const { return d_->tag; }
  const std::string& Scalar() const { return d_->scalar; }
  YAML::Mark Mark() const { return d_->mark; }
  const std::vector<Node>& elements() const { return d_->elements; }
  const std::vector<std::pair<Node, Node>>& pairs() const { return d_->map; }

 private:
  std::shared_ptr<Data> d_;
};

// Passes 1 and 2: the text checked byte by byte and scanned into a tree (of
// the first document; errors for the others). Errors name file:line:col.
Expected<Node> parse_tree(const std::string& text, const std::string& file);
// Pass 3: the tree against the schema.
Expected<ProfileSet> profiles_of(const Node& root, const std::string& file);

}  // namespace aisbx::profile
