/* expire — active expiry: sample keys with a TTL and reclaim the expired ones,
 * as Redis's active expire cycle does. */
#include "store.h"
#include "store_priv.h"

#define EXPIRE_SAMPLES 20
/* Keep sampling a database while more than this percentage was expired. */
#define EXPIRE_STALE_PCT 10

/* One round on one database: returns the number deleted, *checked the number
 * looked at. A database with few TTLs is checked whole. */
static size_t expire_round(partition_t *p, int db, uint64_t now, size_t *checked)
{
    dict_t *d = p->dbs[db];
    size_t nv = dict_volatile_count(d), deleted = 0;
    if (nv <= EXPIRE_SAMPLES) {
        /* downwards: a swap-remove moves an already checked entry into i */
        for (size_t i = nv; i-- > 0;) {
            dict_entry_t *e = dict_volatile_at(d, i);
            if (entry_expired(e, now)) {
                do_expire_entry(p, db, e);
                deleted++;
            }
        }
        *checked = nv;
        return deleted;
    }
    for (int k = 0; k < EXPIRE_SAMPLES && dict_volatile_count(d); k++) {
        dict_entry_t *e = dict_volatile_random(d);
        if (entry_expired(e, now)) {
            do_expire_entry(p, db, e);
            deleted++;
        }
    }
    *checked = EXPIRE_SAMPLES;
    return deleted;
}

static _Atomic int active_expire_on = 1;
void store_set_active_expire(int on)
{
    atomic_store_explicit(&active_expire_on, on, memory_order_relaxed);
}

uint64_t store_active_expire(int part, uint64_t now, uint64_t budget_us)
{
    if (!atomic_load_explicit(&active_expire_on, memory_order_relaxed))
        return 0; /* DEBUG SET-ACTIVE-EXPIRE 0 */
    if (store_reclaim_paused()) /* CLIENT PAUSE (store.h) */
        return 0;
    partition_t *p = &store_parts[part];
    uint64_t start = mono_us(), deleted = 0;
    for (int k = 0; k < store_ndbs; k++) {
        int db = (p->expire_db + k) % store_ndbs;
        for (;;) {
            dict_t *d = p->dbs[db];
            if (!d || dict_volatile_count(d) == 0)
                break;
            int whole = dict_volatile_count(d) <= EXPIRE_SAMPLES;
            size_t checked = 0, n = expire_round(p, db, now, &checked);
            deleted += n;
            if (mono_us() - start >= budget_us) {
                /* out of time: resume at the next database next time */
                p->expire_db = (db + 1) % store_ndbs;
                return deleted;
            }
            if (whole || n * 100 <= checked * EXPIRE_STALE_PCT)
                break;
        }
    }
    return deleted;
}
