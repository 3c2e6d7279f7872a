/* SPDX-License-Identifier: GPL-2.0 */
/* help.h - every command's grammar (help.c). */
#ifndef XLB_HELP_H
#define XLB_HELP_H

#include <stdio.h>

/* The whole grammar: every command's synopsis and the global options. */
void xlb_help_usage(FILE *f);
/* cmd's help ("vip" for every vip command); -1 when no command is cmd. */
int xlb_help_print(FILE *f, const char *cmd);
/* Every command as roff paragraphs, for xlb(8) (`xlb help --roff`). */
void xlb_help_roff(FILE *f);

#endif /* XLB_HELP_H */
