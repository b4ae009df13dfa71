/* CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO: a client's
 * client-side caching state as Redis 7.0 sets and shows it. The tables and
 * the invalidations are tracking.c's (the design is in tracking.h); this file
 * checks the options with Redis's errors and keeps the client's side: its
 * tracking_client_t (c->trk, created at the first ON, freed with the client)
 * and its mailbox, which carries the pushes (client_pubsub_sub). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd_util.h"
#include "command.h"
#include "tracking.h"

/* Either string a prefix of the other (Redis's prefix collision). */
static int overlaps(sv_t a, sv_t b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    return memcmp(a.p, b.p, n) == 0;
}

/* New BCAST prefixes must not overlap the client's or each other. */
static int prefix_error(cmd_ctx_t *c, const tracking_client_t *t, const sv_t *pfx, int n)
{
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < tracking_prefix_count(t); j++) {
            sv_t old = tracking_prefix(t, j);
            if (overlaps(old, pfx[i])) {
                reply_errorf(c->r,
                             "ERR Prefix '%.*s' overlaps with an existing prefix '%.*s'. "
                             "Prefixes for a single client must not overlap.",
                             (int)pfx[i].len, pfx[i].p, (int)old.len, old.p);
                return 1;
            }
        }
        for (int j = i + 1; j < n; j++) {
            if (overlaps(pfx[i], pfx[j])) {
                reply_errorf(c->r,
                             "ERR Prefix '%.*s' overlaps with another provided prefix '%.*s'. "
                             "Prefixes for a single client must not overlap.",
                             (int)pfx[i].len, pfx[i].p, (int)pfx[j].len, pfx[j].p);
                return 1;
            }
        }
    }
    return 0;
}

/* The checks Redis makes before turning tracking on, in its order; 1 when
 * one failed (replied). */
static int on_error(cmd_ctx_t *c, int modes, int old, int npfx)
{
    const char *err = NULL;
    if (!(modes & TRACKING_BCAST) && npfx)
        err = "ERR PREFIX option requires BCAST mode to be enabled";
    else if ((old & TRACKING_ON) && !!(old & TRACKING_BCAST) != !!(modes & TRACKING_BCAST))
        err = "ERR You can't switch BCAST mode on/off before disabling tracking for this "
              "client, and then re-enabling it with a different mode.";
    else if ((modes & TRACKING_BCAST) && (modes & (TRACKING_OPTIN | TRACKING_OPTOUT)))
        err = "ERR OPTIN and OPTOUT are not compatible with BCAST";
    else if ((modes & TRACKING_OPTIN) && (modes & TRACKING_OPTOUT))
        err = "ERR You can't specify both OPTIN mode and OPTOUT mode";
    else if (((modes & TRACKING_OPTIN) && (old & TRACKING_OPTOUT)) ||
             ((modes & TRACKING_OPTOUT) && (old & TRACKING_OPTIN)))
        err = "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this "
              "client, and then re-enabling it with a different mode.";
    if (err)
        reply_error(c->r, err);
    return err != NULL;
}

/* CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP] */
static void tracking_command(cmd_ctx_t *c)
{
    client_t *cl = c->cl;
    long long redir = 0;
    int modes = 0, npfx = 0;
    sv_t *pfx = xcalloc((size_t)c->argc, sizeof *pfx);
    for (int j = 3; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (arg_is(c, j, "redirect") && more) {
            j++;
            if (redir != 0) {
                reply_error(c->r, "ERR A client can only redirect to a single other client");
                goto out;
            }
            if (arg_ll(c, j, &redir, NULL) != 0)
                goto out;
            if (redir <= 0 || !client_alive((uint64_t)redir)) {
                reply_error(c->r, "ERR The client ID you want redirect to does not exist");
                goto out;
            }
        } else if (arg_is(c, j, "bcast")) {
            modes |= TRACKING_BCAST;
        } else if (arg_is(c, j, "optin")) {
            modes |= TRACKING_OPTIN;
        } else if (arg_is(c, j, "optout")) {
            modes |= TRACKING_OPTOUT;
        } else if (arg_is(c, j, "noloop")) {
            modes |= TRACKING_NOLOOP;
        } else if (arg_is(c, j, "prefix") && more) {
            pfx[npfx++] = c->argv[++j];
        } else {
            reply_error(c->r, ERR_SYNTAX);
            goto out;
        }
    }
    if (arg_is(c, 2, "on")) {
        int old = tracking_flags(cl->trk);
        if (on_error(c, modes, old, npfx) ||
            ((modes & TRACKING_BCAST) && prefix_error(c, cl->trk, pfx, npfx)))
            goto out;
        if (!cl->trk) {
            tracking_client_t *t = tracking_client_new(cl->id, client_pubsub_sub(cl));
            client_registry_lock(); /* CLIENT LIST reads c->trk under it */
            cl->trk = t;
            client_registry_unlock();
        }
        tracking_on(cl->trk, modes, (uint64_t)redir, pfx, npfx);
    } else if (arg_is(c, 2, "off")) {
        if (cl->trk)
            tracking_off(cl->trk);
    } else {
        reply_error(c->r, ERR_SYNTAX);
        goto out;
    }
    reply_ok(c->r);
out:
    free(pfx);
}

/* CLIENT CACHING YES|NO */
static void caching_command(cmd_ctx_t *c)
{
    tracking_client_t *t = c->cl->trk;
    int f = tracking_flags(t);
    if (!(f & TRACKING_ON)) {
        reply_error(c->r, "ERR CLIENT CACHING can be called only when the client is in tracking "
                          "mode with OPTIN or OPTOUT mode enabled");
    } else if (arg_is(c, 2, "yes") || arg_is(c, 2, "no")) {
        /* YES: cache the next command's keys under OPTIN; NO: don't, under OPTOUT */
        int yes = arg_is(c, 2, "yes");
        if (!(f & (yes ? TRACKING_OPTIN : TRACKING_OPTOUT))) {
            reply_errorf(c->r,
                         "ERR CLIENT CACHING %s is only valid when tracking is enabled in %s "
                         "mode.",
                         yes ? "YES" : "NO", yes ? "OPTIN" : "OPTOUT");
            return;
        }
        tracking_set_caching(t, 1);
        reply_ok(c->r);
    } else {
        reply_error(c->r, ERR_SYNTAX);
    }
}

/* CLIENT TRACKINGINFO: flags, redirect, prefixes. */
static void trackinginfo_command(cmd_ctx_t *c)
{
    tracking_client_t *t = c->cl->trk;
    int f = tracking_flags(t);
    static const struct {
        int flag;
        const char *name;
    } names[] = {{TRACKING_BCAST, "bcast"},   {TRACKING_OPTIN, "optin"},
                 {TRACKING_OPTOUT, "optout"}, {TRACKING_NOLOOP, "noloop"},
                 {TRACKING_BROKEN, "broken_redirect"}};
    const char *shown[8];
    int n = 0;
    shown[n++] = (f & TRACKING_ON) ? "on" : "off";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (f & names[i].flag)
            shown[n++] = names[i].name;
        if (names[i].flag == TRACKING_OPTOUT && (f & TRACKING_CACHING))
            shown[n++] = (f & TRACKING_OPTIN) ? "caching-yes" : "caching-no";
    }
    reply_map(c->r, 3);
    reply_bulk_cstr(c->r, "flags");
    reply_set(c->r, n);
    for (int i = 0; i < n; i++)
        reply_bulk_cstr(c->r, shown[i]);
    reply_bulk_cstr(c->r, "redirect");
    reply_int(c->r, (f & TRACKING_ON) ? (long long)tracking_redirect(t) : -1);
    reply_bulk_cstr(c->r, "prefixes");
    int np = (f & TRACKING_ON) ? tracking_prefix_count(t) : 0;
    reply_array(c->r, np);
    for (int i = 0; i < np; i++) {
        sv_t p = tracking_prefix(t, i);
        reply_bulk(c->r, p.p, p.len);
    }
}

int client_tracking_command(cmd_ctx_t *c, sv_t sub)
{
    if (sv_eq_ci(sub, "TRACKING") && c->argc >= 3)
        tracking_command(c);
    else if (sv_eq_ci(sub, "CACHING") && c->argc == 3)
        caching_command(c);
    else if (sv_eq_ci(sub, "GETREDIR") && c->argc == 2)
        reply_int(c->r, (tracking_flags(c->cl->trk) & TRACKING_ON)
                            ? (long long)tracking_redirect(c->cl->trk)
                            : -1);
    else if (sv_eq_ci(sub, "TRACKINGINFO") && c->argc == 2)
        trackinginfo_command(c);
    else
        return 0;
    return 1;
}

void client_tracking_reset(client_t *c)
{
    if (c->trk)
        tracking_off(c->trk);
}

void client_tracking_free(client_t *c)
{
    tracking_client_free(c->trk);
    c->trk = NULL;
}

/* CLIENT CACHING's flag lasts for the next command only, or a whole MULTI
 * block, as Redis (any CLIENT subcommand keeps it). */
void client_tracking_after(client_t *c, const command_t *cmd)
{
    if ((tracking_flags(c->trk) & TRACKING_CACHING) && !c->in_multi &&
        strcmp(cmd->name, "client") != 0)
        tracking_set_caching(c->trk, 0);
}

int client_tracking_flags(const client_t *c, char *flags)
{
    int f = tracking_flags(c->trk), n = 0;
    if (f & TRACKING_ON)
        flags[n++] = 't';
    if (f & TRACKING_BROKEN)
        flags[n++] = 'R';
    if (f & TRACKING_BCAST)
        flags[n++] = 'B';
    return n;
}

long long client_tracking_redir(const client_t *c)
{
    int f = tracking_flags(c->trk);
    return (f & TRACKING_ON) ? (long long)tracking_redirect(c->trk) : -1;
}
