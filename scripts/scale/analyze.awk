# Summarises one scale-test phase from the caller's SIPp log
# (tests/sipp/scale/caller_dtmf.xml writes START/SETUP/DONE/REJECT lines).
#
# Variables (-v):
#   ports      "15061:w1 15062:w2 15063:w3"  worker port -> name
#   kill_t     epoch s when a worker was killed (0: no kill in this phase)
#   down_t     epoch s when the proxy marked it down (0: never)
#   restart_t  epoch s when it was restarted (0: never)
#   up_t       epoch s when the proxy marked it up again (0: never)
#   victim     name of the killed worker
#   slow_ms    a setup at least this long paid an INVITE timeout
#
# Output: "key=value" lines, one per figure, read by scripts/scale-test.sh.
# Plain POSIX awk (Debian's default is mawk): no asort, no gensub.

function ms(s0, u0, s1, u1) { return (s1 - s0) * 1000 + (u1 - u0) / 1000 }

function sort_num(a, n,    i, j, v) {
    for (i = 2; i <= n; i++) {
        v = a[i]
        for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]
        a[j + 1] = v
    }
}

function pct(a, n, p,    k) {
    if (n == 0) return "-"
    k = int(n * p / 100 + 0.999999)
    if (k < 1) k = 1
    if (k > n) k = n
    return sprintf("%.1f", a[k])
}

function worker_of(contact,    s, port) {
    # <sip:agent@127.0.0.1:15061;transport=UDP> -> 15061
    s = contact
    sub(/^[^:]*:/, "", s)          # drop "<sip" / "sip"
    sub(/^[^@]*@/, "", s)          # drop user part
    sub(/[;>].*$/, "", s)          # drop params
    port = s
    sub(/^.*:/, "", port)
    if (port in name) return name[port]
    return "other"
}

BEGIN {
    n = split(ports, pl, " ")
    for (i = 1; i <= n; i++) {
        split(pl[i], kv, ":")
        name[kv[1]] = kv[2]
        order[i] = kv[2]
    }
    nworkers = n
    order[n + 1] = "other"
}

$1 == "START" { t0s[$2] = $3; t0u[$2] = $4; t0[$2] = $3 + $4 / 1e6; placed++ }
$1 == "SETUP" {
    t1s[$2] = $3; t1u[$2] = $4; t1[$2] = $3 + $4 / 1e6
    contact = $5
    for (i = 6; i <= NF; i++) contact = contact " " $i
    w[$2] = worker_of(contact)
}
$1 == "DONE"  { done[$2] = 1 }
$1 == "REJECT" { rej[$2] = $3 }

END {
    ok = 0; rejected = 0; nset = 0; nosetup = 0
    for (c in t0) {
        if (c in done) ok++
        if (c in rej) rejected++
        if (c in t1) {
            d = ms(t0s[c], t0u[c], t1s[c], t1u[c])
            setup[c] = d
            all[++nset] = d
            answered[w[c]]++
            if (c in done) completed[w[c]]++
            else lost[w[c]]++
        } else if (!(c in rej)) {
            nosetup++
        }
    }
    sort_num(all, nset)
    print "placed=" placed + 0
    print "ok=" ok
    print "failed=" placed - ok
    print "rejected=" rejected
    print "nosetup=" nosetup
    print "p50=" pct(all, nset, 50)
    print "p99=" pct(all, nset, 99)
    print "max=" pct(all, nset, 100)
    for (i = 1; i <= nworkers + 1; i++) {
        k = order[i]
        print "answered_" k "=" answered[k] + 0
        print "lost_" k "=" lost[k] + 0
    }

    if (kill_t > 0) {
        # Lost calls must all be calls the victim had answered before it died.
        lost_ok = 0; lost_other = 0
        win = 0; win_paid = 0; win_max = 0
        after = 0; after_slow = 0; after_max = 0; after_victim = 0
        back = 0
        for (c in t0) {
            if (c in done) {
                # completed
            } else if ((c in t1) && w[c] == victim && t1[c] < kill_t) {
                lost_ok++
            } else {
                lost_other++
            }
            if (!(c in t1)) continue
            d = setup[c]
            if (t0[c] >= kill_t && (down_t == 0 || t0[c] < down_t)) {
                win++
                if (d >= slow_ms) win_paid++
                if (d > win_max) win_max = d
            }
            if (down_t > 0 && t0[c] >= down_t && (restart_t == 0 || t0[c] < restart_t)) {
                after++
                if (d >= slow_ms) after_slow++
                if (d > after_max) after_max = d
                if (w[c] == victim) after_victim++
            }
            if (up_t > 0 && t0[c] >= up_t && w[c] == victim) back++
        }
        print "lost_in_progress=" lost_ok
        print "lost_unexpected=" lost_other
        print "window_calls=" win
        print "window_paid_timeout=" win_paid
        printf "window_max=%.1f\n", win_max
        print "after_down_calls=" after
        print "after_down_slow=" after_slow
        printf "after_down_max=%.1f\n", after_max
        print "after_down_on_victim=" after_victim
        print "back_on_victim=" back
    }
}
