# Doxygen INPUT_FILTER for mrnn's headers, which document with plain // comments (docs/Doxyfile):
# the comment block that opens a file becomes its \file description, a // comment line becomes a
# /// doc comment for what follows, and a // comment after a member or enumerator (code ending in
# ; or ,) becomes ///< for that member. Comment text is prose, not Doxygen markup: \ @ < > & # are
# escaped so that "<bos>", "\t" or "R@K" print as written. The code is passed through unchanged.
function prose(s) {
  gsub(/\\/, "\\\\\\\\", s)
  gsub(/@/, "\\@", s)
  gsub(/</, "\\<", s)
  gsub(/>/, "\\>", s)
  gsub(/&/, "\\\\&", s)
  gsub(/#/, "\\#", s)
  return s
}
# Prints the line with the comment starting at column `at` (1-based) as `marker` + escaped text.
function emit(line, at, marker) {
  print substr(line, 1, at - 1) marker prose(substr(line, at + 2))
}
FNR == 1 { opening = 1; started = 0 }
opening && /^\/\/([^\/]|$)/ {
  if (!started) { print "/// \\file"; started = 1 }
  emit($0, 1, "///"); next
}
{ opening = 0 }
/^[ \t]*\/\/([^\/]|$)/ { emit($0, index($0, "//"), "///"); next }
/^[^"\/]*[;,][ \t]*\/\/([^\/]|$)/ { emit($0, index($0, "//"), "///<"); next }
{ print }
