#ifndef CONVKIT_CK_WINOGRAD_H
#define CONVKIT_CK_WINOGRAD_H

#include <stddef.h>
#include <stdint.h>

#endif /* CONVKIT_CK_WINOGRAD_H */
