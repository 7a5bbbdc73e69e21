// `aeflow inspect`: prints what an aeflow HDF5 file holds for a human: its format and root
// attributes, a one-line summary where the format has one (checkpoints, metrics), the tree of
// groups and datasets with types, shapes, chunking and compression, small 1-D datasets inline,
// and the job config last. Files of other origins are printed too, with a note. It is read-only.
#pragma once

#include <ostream>
#include <string>

namespace aeflow::io {

// Throws InputError when PATH is missing or not an HDF5 file.
void inspect_file(const std::string& path, std::ostream& out);

}  // namespace aeflow::io
