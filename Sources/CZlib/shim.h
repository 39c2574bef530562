// The system zlib (Debian: zlib1g-dev), for inflating gzip / deflate request bodies.
#include <zlib.h>
