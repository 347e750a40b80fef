#ifndef CONVKIT_CK_CONV_DIRECT_H
#define CONVKIT_CK_CONV_DIRECT_H

#include <stddef.h>
#include <stdint.h>

#endif /* CONVKIT_CK_CONV_DIRECT_H */
