#ifndef CONVKIT_CK_POOL_H
#define CONVKIT_CK_POOL_H

#include <stddef.h>
#include <stdint.h>

#endif /* CONVKIT_CK_POOL_H */
