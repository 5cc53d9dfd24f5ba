// The library's version, as a function rather than a macro on the compiler's command line.
// Why: a consumer built with pkg-config or find_package then needs no -D flag (pkg-config strips
// the quotes of a string define), and a program reports the version of the library it actually
// loaded, not the one whose headers it was compiled against.
#pragma once

namespace mrnn {

// Ensures: the version of the loaded libmrnn, e.g. "0.1.0" (the VERSION file of the source tree).
const char* version();

}  // namespace mrnn
