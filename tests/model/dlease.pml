/* SPDX-License-Identifier: MIT */
/*
 * dlease.pml: the resource-lease protocol of dlease (Disk Paxos per lease instance, takeover of
 * a dead owner, damaged ballot blocks and the recovery rule) as a Promela model for spin. It
 * models disks, hosts that crash and restart, and an adversary, and checks that at most one live
 * host holds the lease and that a token (lver) goes to one host incarnation only. It must not
 * model time: the delta lease that tells a host another host is dead is replaced by an oracle
 * (crashed[], gen[]), whose timing argument belongs to docs/design.md. It checks the protocol,
 * not the code in src/lease. tests/model/test_model.sh knows which configurations fit the time
 * budget and what each must answer; README.md says what the model found.
 *
 * Disks (algorithms.md section 1; Gafni & Lamport, "Disk Paxos", section 4):
 *   L[d]          leader record on disk d: (lver, owner, owner_gen); owner 0 = free.
 *   B[IX(d, q)]   ballot block of host q on disk d: (lver, mbal, bal, inp); only q writes it.
 *                 dmg: the sector is unreadable (bad checksum); q's next write repairs it.
 * A value (owner, gen) is packed as VAL(owner, gen) = owner * 8 + gen; 0 means none / free.
 *
 * One acquire attempt by host p; pc names the step the host is in:
 *   P_READ0    step 0: read L from >= M disks and keep the copy with the largest lver (ties:
 *              either copy). PHASE0: read the own block on the same disks too (Disk Paxos
 *              phase 0); >= M copies must be readable. Without PHASE0 (as first written) a
 *              host knows its own block only from memory, which a crash loses.
 *   P_DECIDE0  give up if the kept owner is live in that generation; target t = lver + 1, or
 *              (OWNLVER) the newest own copy's lver if that is larger: a host never moves its
 *              own block back to an older instance. PHASE0: adopt the own copies of instance
 *              t (mbal, bal, inp). mbal = k * N + p above the own mbal. PHASE0 and OWNLVER
 *              together are the fix in README.md.
 *   P_PHASE    step 1 (ph 1): write B[d][p] = (t, mbal, bal, inp); on each disk, after the
 *              write, read the other hosts' blocks; abort on lver > t or mbal > ours; lver < t
 *              counts as empty; value = inp of the largest bal seen, our own block included,
 *              else (p, gen). step 2 (ph 2): the same with bal = mbal, inp = value.
 *   P_DECIDE   a phase has read all its disks and some host's block is short of valid copies:
 *              apply the recovery rule (or abort).
 *   P_REREAD   RECOVERY 2 only: after a phase that used the rule, read every L again.
 *   P_COMMIT   step 3: write L[d] = (t, value); >= M landed and value == (p, gen): P_HOLD.
 *   P_RELEASE  RELEASE only: the holder stops holding, then writes L[d] = (t, free).
 *   P_CRASHED  until the host restarts as generation gen + 1 with its memory lost.
 * A phase completes with >= M disks written and then read, and for each other host q, q's block
 * read valid on >= M of them, unless the recovery rule lets damaged copies count as empty:
 *   RECOVERY 0  never: a damaged block is a disk that did not answer.
 *   RECOVERY 1  as proposed: q crashed, this phase read all D disks, step 0 read all D L copies.
 *   RECOVERY 2  as 1, then read all D leader copies again and abort if one has lver >= t.
 *   RECOVERY 3  as src/lease did it: once the blocker q is proven dead, read the phase again
 *               (blocks and leader, every disk); abort on a leader copy with lver >= t; q's
 *               damaged copies count as empty if every disk answered that second round and q
 *               is still dead in the same generation.
 * Any abort ends the attempt; the host starts again at step 0 (with the next k if t is the same).
 * NOREGRESS: a leader write that would land over a newer lver does not land. That is a timing
 * assumption (a leader write lands within its deadline, and the next instance takes longer),
 * not something the protocol enforces; RECOVERY 3 is safe in the model only with it.
 *
 * Invariants, asserted where a host starts to hold:
 *   1. at most one host holds the lease at any time (a crash ends holding);
 *   2. holder_of[t]: token t is granted to one (host, generation) only.
 *
 * Atomicity and bounds:
 *   - one transition = one sector read or write and the bookkeeping after it, and after the
 *     last disk of a step the decision that needs no oracle; decisions that ask the oracle are
 *     transitions of their own (P_DECIDE0, P_DECIDE), since a host may die in between.
 *   - a host's operations on different disks interleave in any order (ORDERED: each host goes
 *     round the disks from its own first disk, and a write may run ahead of the previous disk's
 *     read); the other hosts' sectors of one disk are read one transition each; in step 0 the
 *     leader and the own block of a disk are read in one transition (only p writes its block).
 *   - any read or write may fail (not reach the disk); the issuer does not count that disk.
 *     FAILS bounds the failures per run (unbounded if undefined).
 *   - no lingering writes: a write lands in its transition or never; a crash falls between
 *     transitions and resets the host at once.
 *   - k <= K per instance and incarnation, lver <= TMAX, CRASHES crash events and DAMAGE
 *     damaged sectors per run; only written blocks are damaged (damaging an empty block adds
 *     no behaviour but blocking). PHASE0 keeps only the own copies with the largest lver read,
 *     which is exact with OWNLVER (t is at least that lver) or with one disk.
 *
 * MUTANT (each must make spin find a violation):
 *   1 trust one disk: a phase completes with 1 disk and 1 valid copy per host (D = 3)
 *   2 no abort on a higher mbal
 *   3 skip phase 1: propose the own value at once
 * CANARY (vacuity checks: each must be reachable, i.e. "fail"):
 *   1 a host holds token TMAX (holding, and takeover from a dead owner, happen)
 *   2 a host holds after using the recovery rule
 *   3 a host holds after OWNLVER raised its target instance
 */

#ifndef N
#define N 2		/* hosts 1..N (2 or 3) */
#endif
#ifndef D
#define D 1		/* disks 0..D-1 (1 or 3) */
#endif
#ifndef K
#define K 2		/* ballot rounds per instance and incarnation (<= 3) */
#endif
#ifndef TMAX
#define TMAX 2		/* largest lver explored (<= 3) */
#endif
#ifndef CRASHES
#define CRASHES 1
#endif
#ifndef DAMAGE
#define DAMAGE 1
#endif
#ifndef RECOVERY
#define RECOVERY 0
#endif
#ifndef OWNLVER
#define OWNLVER 1
#endif
#ifndef PHASE0
#define PHASE0 1
#endif
#ifndef RELEASE
#define RELEASE 0
#endif
#ifndef NOREGRESS
#define NOREGRESS 0	/* 1: a leader write never lands over a newer lver (a timing assumption) */
#endif
#ifndef RESTART
#define RESTART 1	/* 0: a crashed host stays dead */
#endif
#ifndef ORDERED
#define ORDERED 0
#endif
#ifndef MUTANT
#define MUTANT 0
#endif
#ifndef CANARY
#define CANARY 0
#endif

#if OWNLVER && !PHASE0
#error "OWNLVER needs PHASE0 (the own block is read in step 0)"
#endif
#if PHASE0 && !OWNLVER && D > 1
#error "PHASE0 without OWNLVER is exact for D = 1 only (step 0 keeps the newest own copies)"
#endif

#define M (D / 2 + 1)		/* disk majority */
#if MUTANT == 1
#define PM 1			/* disks, and valid copies per host, a phase needs */
#else
#define PM M
#endif

#define IX(d, q) ((d) * N + (q) - 1)
#define VAL(p, g) ((p) * 8 + (g))
#define VOWN(v) ((v) / 8)
#define VGEN(v) ((v) % 8)

#define P_READ0 0
#define P_DECIDE0 1
#define P_PHASE 2
#define P_DECIDE 3
#define P_REREAD 4
#define P_COMMIT 5
#define P_HOLD 6
#define P_RELEASE 7
#define P_CRASHED 8

/* the disk operation of a transition (op) */
#define OP_IO 1		/* do the step's write or read on disk dk */
#define OP_FAIL 2		/* the operation on disk dk did not reach it */
#define OP_READ 3		/* read the next other block of disk dk */
#define OP_TAKE 4		/* step 0: read, and keep this copy over an equal-lver one */

/* ---- state ------------------------------------------------------------------------------- */

/*
 * Narrow fields keep states small (spin stores every state): widths hold N <= 3, K <= 3,
 * TMAX <= 3, CRASHES <= 6. Per-disk and per-host counters are packed into one field each.
 */
typedef leader {
	unsigned lver : 2;
	unsigned val : 5;
};
typedef block {
	unsigned lver : 2;
	unsigned mbal : 4;
	unsigned bal : 4;
	unsigned inp : 5;
	bit dmg;
};
typedef hstate {
	unsigned pc : 4;
	unsigned t : 3;		/* instance being acquired (TMAX + 1 means "too far") */
	unsigned ph : 2;	/* P_PHASE: 1 or 2 */
	unsigned progs : 9;	/* PROG(x), per disk: 0 to do, 1 done or written, */
				/* 1 + i: i other blocks read, FAILED: did not answer */
	unsigned nread : 2;	/* P_READ0: leader copies read */
	unsigned cur_lver : 2;	/* P_READ0: the kept leader copy */
	unsigned cur_val : 5;
	unsigned nok : 2;	/* P_PHASE: disks written, then read */
	unsigned acks : 2;	/* writes landed */
	unsigned mbal : 4;
	unsigned best_bal : 4;	/* phase 1: largest bal seen, and its inp */
	unsigned best_inp : 5;	/* from phase 2 on: the value */
	unsigned valids : 6;	/* VALID(q): disks where q's block was readable */
	bit all_read;		/* step 0 read all D leader copies */
	bit used_rec;		/* the recovery rule was used in this attempt */
	bit raised;		/* OWNLVER raised t in this attempt */
	bit rr;			/* RECOVERY 3: this is the phase's second read round */
	unsigned dmask : 3;	/* RECOVERY 3: hosts proven dead before the second round, */
	unsigned dgens : 6;	/* and their generations then (2 bits each) */
	unsigned my_t : 2;	/* the own block as last written: lost on a crash */
	unsigned my_mbal : 4;
	unsigned my_bal : 4;
	unsigned my_inp : 5;
	unsigned o_n : 2;	/* PHASE0: own copies readable in step 0, and the newest of */
	unsigned o_lver : 2;	/* them (with OWNLVER the only ones that can be of instance t) */
	unsigned o_mbal : 4;
	unsigned o_bal : 4;
	unsigned o_inp : 5;
};

leader L[D];
block B[D * N];
hstate hs[N];
byte gen[N + 1] = 1;		/* the oracle: current generation of each host */
bool crashed[N + 1];
bool held[N + 1];		/* ghost: the host holds the lease */
byte holder_of[TMAX + 1];	/* ghost: VAL(host, gen) granted token t */
byte crash_left = CRASHES;
byte dmg_left = DAMAGE;
#ifdef FAILS
byte fail_left = FAILS;
#define CAN_FAIL (fail_left > 0)
#define FAIL_ONE fail_left--
#else
#define CAN_FAIL true
#define FAIL_ONE skip
#endif

#define HS(h) hs[(h) - 1]
#define p _pid			/* hosts are processes 1..N, the adversary is 0 */
#define H HS(p)

#define FAILED 7
#define PROG(x) ((H.progs >> (3 * (x))) & 7)
#define SET_PROG(x, v) H.progs = (H.progs & (511 - (7 << (3 * (x))))) | ((v) << (3 * (x)))
#define VALID(q) ((H.valids >> (2 * ((q) - 1))) & 3)
#define INC_VALID(q) H.valids = H.valids + (1 << (2 * ((q) - 1)))

/* the liveness oracle (the delta lease): the owner of v runs in generation VGEN(v) */
#define LIVE(v) (!crashed[VOWN(v)] && gen[VOWN(v)] == VGEN(v))

/* ---- iteration over disks ---------------------------------------------------------------- */

#if D == 1
#define FOR_DISKS(X) X(0)
#define ALL_WRITTEN 1
#define ALL_DONE (PROG(0) != 0)
#define ALL_READ (DONE_R(0))
#else
#define FOR_DISKS(X) X(0) X(1) X(2)
#define ALL_WRITTEN (1 + 8 + 64)
#define ALL_DONE (PROG(0) != 0 && PROG(1) != 0 && PROG(2) != 0)
#define ALL_READ (DONE_R(0) && DONE_R(1) && DONE_R(2))
#endif
#define DONE_R(x) (PROG(x) >= N)	/* all other blocks read, or FAILED */

/*
 * ORDERED: host p goes round the disks from disk p - 1. A write may be issued before the
 * previous disk's read completes; reads complete in that order.
 */
#if ORDERED && D == 3
#define POS(x) (((x) + D + 1 - p) % D)
#define PREV(x) (((x) + D - 1) % D)
#define ORD_W(x) (POS(x) == 0 || PROG(PREV(x)) != 0)
#define ORD_R(x) (POS(x) == 0 || DONE_R(PREV(x)))
#else
#define ORD_W(x) true
#define ORD_R(x) true
#endif

/* ---- resetting a host -------------------------------------------------------------------- */

/* end the attempt: back to step 0, keeping only the memory of the own block */
#define RESET_ATTEMPT(h)                                                                       \
	HS(h).pc = P_READ0; HS(h).t = 0; HS(h).ph = 0; HS(h).progs = 0; HS(h).nread = 0;        \
	HS(h).cur_lver = 0; HS(h).cur_val = 0; HS(h).nok = 0; HS(h).acks = 0; HS(h).mbal = 0;   \
	HS(h).best_bal = 0; HS(h).best_inp = 0; HS(h).valids = 0; HS(h).all_read = 0;           \
	HS(h).used_rec = 0; HS(h).raised = 0; HS(h).rr = 0; HS(h).dmask = 0; HS(h).dgens = 0;  \
	RESET_OWN(h)
#define RESET_OWN(h)                                                                           \
	HS(h).o_n = 0; HS(h).o_lver = 0; HS(h).o_mbal = 0; HS(h).o_bal = 0; HS(h).o_inp = 0
#define RESET_ALL(h)                                                                           \
	RESET_ATTEMPT(h); HS(h).my_t = 0; HS(h).my_mbal = 0; HS(h).my_bal = 0; HS(h).my_inp = 0

/* ---- step 0 ------------------------------------------------------------------------------ */

/*
 * Keep the copy with the largest lver. Of two different copies with the same lver the host
 * keeps either: OP_TAKE (chosen in STEP0_OPT) takes the new one.
 */
inline read_leader(x)
{
	H.nread++;
	if
	:: H.nread == 1 || L[x].lver > H.cur_lver || op == OP_TAKE ->
		H.cur_lver = L[x].lver; H.cur_val = L[x].val
	:: else -> skip
	fi
}

/* PHASE0: count the readable own copies, keep the newest (largest mbal, largest bal) */
inline read_own(x)
{
#if PHASE0
	if
	:: B[IX(x, p)].dmg -> skip
	:: else ->
		H.o_n++;
		if
		:: H.o_n == 1 || B[IX(x, p)].lver > H.o_lver ->
			H.o_lver = B[IX(x, p)].lver; H.o_mbal = B[IX(x, p)].mbal;
			H.o_bal = B[IX(x, p)].bal; H.o_inp = B[IX(x, p)].inp
		:: H.o_n > 1 && B[IX(x, p)].lver == H.o_lver ->
			if
			:: B[IX(x, p)].mbal > H.o_mbal -> H.o_mbal = B[IX(x, p)].mbal
			:: else -> skip
			fi;
			if
			:: B[IX(x, p)].bal > H.o_bal ->
				H.o_bal = B[IX(x, p)].bal; H.o_inp = B[IX(x, p)].inp
			:: else -> skip
			fi
		:: else -> skip
		fi
	fi
#else
	skip
#endif
}

/* steps 1 and 2 start: mbal = k * N + p with k above the own block's */
inline start_ballot()
{
	q = (H.my_mbal == 0 -> 1 : (H.my_mbal - p) / N + 1);
	if
	:: q > K -> RESET_ATTEMPT(p)	/* model bound */
	:: else ->
		H.mbal = q * N + p;
		H.my_mbal = H.mbal;
		printf("MSC: host %d.%d step 0: t %d, mbal %d, own (bal %d, inp %d.%d)\n",
		       p, gen[p], H.t, H.mbal, H.my_bal, VOWN(H.my_inp), VGEN(H.my_inp));
		H.best_bal = H.my_bal; H.best_inp = H.my_inp;	/* blocksSeen has our own */
		H.ph = 1;
#if MUTANT == 3
		H.my_bal = H.mbal; H.my_inp = VAL(p, gen[p]); H.best_bal = 0; H.ph = 2;
#endif
		H.pc = P_PHASE
	fi;
	q = 0
}

/* P_DECIDE0 (or the last read, if the kept copy is free): go on to step 1, or give up */
inline read0_done()
{
	H.t = H.cur_lver + 1;
	if
	:: OWNLVER && H.o_lver > H.t -> H.t = H.o_lver; H.raised = 1	/* never behind our own */
	:: else -> skip
	fi;
	if
	:: H.nread < M -> RESET_ATTEMPT(p)
	:: H.nread >= M && H.cur_val != 0 && LIVE(H.cur_val) -> RESET_ATTEMPT(p)	/* held */
	:: H.nread >= M && PHASE0 && H.o_n < M -> RESET_ATTEMPT(p)	/* own block unreadable */
	:: H.nread >= M && H.t > TMAX -> RESET_ATTEMPT(p)		/* model bound */
	:: else ->
		H.all_read = (H.nread == D);
		if
		:: H.my_t != H.t -> H.my_t = H.t; H.my_mbal = 0; H.my_bal = 0; H.my_inp = 0
		:: else -> skip
		fi;
		if
		:: PHASE0 && H.o_lver == H.t ->
			if
			:: H.o_mbal > H.my_mbal -> H.my_mbal = H.o_mbal
			:: else -> skip
			fi;
			if
			:: H.o_bal > H.my_bal -> H.my_bal = H.o_bal; H.my_inp = H.o_inp
			:: else -> skip
			fi
		:: else -> skip
		fi;
		RESET_OWN(p); H.progs = 0; H.cur_lver = 0; H.cur_val = 0; H.nread = 0;
		start_ballot()
	fi
}

/* The last leader copy was read. Is its owner live? That is asked later: it may die first. */
inline read0_end()
{
	if
	:: H.cur_val != 0 -> H.pc = P_DECIDE0
	:: else -> read0_done()
	fi
}

/* ---- steps 1 and 2 ----------------------------------------------------------------------- */

#define OTHER(i) ((i) + 1 < p -> (i) + 1 : (i) + 2)	/* the i-th host other than p */
#if MUTANT == 2
#define MBAL_ABORT(x) false
#else
#define MBAL_ABORT(x) (B[IX(x, q)].mbal > H.mbal)
#endif

inline write_block(x)
{
	B[IX(x, p)].lver = H.t; B[IX(x, p)].mbal = H.mbal; B[IX(x, p)].bal = H.my_bal;
	B[IX(x, p)].inp = H.my_inp; B[IX(x, p)].dmg = 0;
	printf("MSC: host %d.%d writes B[%d][%d] = (lver %d, mbal %d, bal %d, inp %d.%d)\n",
	       p, gen[p], x, p, H.t, H.mbal, H.my_bal, VOWN(H.my_inp), VGEN(H.my_inp))
}

/* read the next other host's block on disk x; a newer lver or a higher mbal aborts at once */
inline read_block(x)
{
	if
	:: RECOVERY == 3 && H.rr && PROG(x) == 1 && L[x].lver >= H.t -> H.ph = 0	/* decided */
	:: else -> skip
	fi;
	q = OTHER(PROG(x) - 1);
	SET_PROG(x, PROG(x) + 1);
	printf("MSC: host %d.%d reads B[%d][%d] = (lver %d, mbal %d, bal %d, inp %d.%d, damaged %d)\n",
	       p, gen[p], x, q, B[IX(x, q)].lver, B[IX(x, q)].mbal, B[IX(x, q)].bal,
	       VOWN(B[IX(x, q)].inp), VGEN(B[IX(x, q)].inp), B[IX(x, q)].dmg);
	if
	:: B[IX(x, q)].dmg -> skip
	:: else ->
		INC_VALID(q);
		if
		:: B[IX(x, q)].lver > H.t -> H.ph = 0
		:: B[IX(x, q)].lver == H.t && MBAL_ABORT(x) -> H.ph = 0
		:: H.ph == 1 && B[IX(x, q)].lver == H.t && !MBAL_ABORT(x) &&
		   B[IX(x, q)].bal > H.best_bal ->
			H.best_bal = B[IX(x, q)].bal; H.best_inp = B[IX(x, q)].inp
		:: else -> skip
		fi
	fi;
	if
	:: H.ph == 0 ->
		printf("MSC: host %d.%d aborts\n", p, gen[p]);
		RESET_ATTEMPT(p)
	:: H.ph != 0 && PROG(x) == N -> H.nok++
	:: else -> skip
	fi;
	q = 0
}

/* the phase is complete: on to phase 2 or to the commit */
inline phase_next()
{
	H.progs = 0; H.valids = 0; H.nok = 0; H.rr = 0; H.dmask = 0; H.dgens = 0;
	if
	:: H.ph == 1 ->
		if
		:: H.best_bal == 0 -> H.best_inp = VAL(p, gen[p])
		:: else -> skip
		fi;
		H.my_bal = H.mbal; H.my_inp = H.best_inp; H.best_bal = 0;
		printf("MSC: host %d.%d phase 1 done: value %d.%d\n", p, gen[p],
		       VOWN(H.my_inp), VGEN(H.my_inp));
		H.ph = 2; H.pc = P_PHASE
	:: else ->
		H.best_inp = H.my_inp; H.ph = 0; H.pc = P_COMMIT
	fi
}

/* RECOVERY: may q's damaged copies count as empty? */
#define RECOVERABLE(q) (RECOVERY > 0 && crashed[q] && H.nok == D && H.all_read)

/* the majority rule, and for each other host the per-block rule */
inline phase_done()
{
	ok = (H.nok >= PM);
	for (q : 1 .. N) {
		if
		:: q == p || VALID(q) >= PM -> skip
		:: q != p && VALID(q) < PM && RECOVERY < 3 && RECOVERABLE(q) ->
			H.used_rec = 1;
			printf("MSC: host %d.%d: recovery rule: host %d's damaged block counts as empty\n",
			       p, gen[p], q)
		:: q != p && VALID(q) < PM && RECOVERY == 3 && !H.rr && crashed[q] ->
			H.dmask = H.dmask | (1 << (q - 1));
			H.dgens = H.dgens | ((gen[q] & 3) << (2 * (q - 1)))
		:: q != p && VALID(q) < PM && RECOVERY == 3 && H.rr && H.nok == D && crashed[q] &&
		   ((H.dmask >> (q - 1)) & 1) && ((H.dgens >> (2 * (q - 1))) & 3) == (gen[q] & 3) ->
			H.used_rec = 1;
			printf("MSC: host %d.%d: recovery rule: host %d's damaged block counts as empty\n",
			       p, gen[p], q)
		:: else -> ok = false
		fi
	};
	q = 0;
	if
	:: !ok -> RESET_ATTEMPT(p)
	:: ok && RECOVERY == 2 && H.used_rec -> H.progs = 0; H.pc = P_REREAD
	:: ok && RECOVERY == 3 && !H.rr && H.dmask != 0 ->
		/* the blockers are dead: read the phase again (all disks, and the leader) */
		printf("MSC: host %d.%d: blocker dead, reading the phase again\n", p, gen[p]);
		H.rr = 1; H.progs = ALL_WRITTEN; H.valids = 0; H.nok = 0; H.pc = P_PHASE;
		H.best_bal = (H.ph == 1 -> H.my_bal : 0); H.best_inp = (H.ph == 1 -> H.my_inp : 0)
	:: else -> phase_next()
	fi;
	ok = false
}

/* The last disk of the phase was read. A block short of valid copies asks the oracle later. */
#if RECOVERY
#if N == 2
#define SHORT_OF_COPIES (VALID(1) < PM && p != 1 || VALID(2) < PM && p != 2)
#else
#define SHORT_OF_COPIES                                                                        \
	(VALID(1) < PM && p != 1 || VALID(2) < PM && p != 2 || VALID(3) < PM && p != 3)
#endif
#else
#define SHORT_OF_COPIES false
#endif
inline phase_end()
{
	if
	:: H.nok >= PM && SHORT_OF_COPIES -> H.pc = P_DECIDE
	:: else -> phase_done()
	fi
}

/* ---- step 3 ------------------------------------------------------------------------------ */

inline commit_done()
{
	if
	:: H.acks >= M && H.best_inp == VAL(p, gen[p]) ->
		/* invariant 2: a token goes to one (host, generation) */
		assert(holder_of[H.t] == 0 || holder_of[H.t] == H.best_inp);
		holder_of[H.t] = H.best_inp;
		held[p] = true;
		printf("MSC: host %d.%d HOLDS with token %d\n", p, gen[p], H.t);
		/* invariant 1: one holder at a time */
#if N == 2
		assert(!(held[1] && held[2]));
#else
		assert(held[1] + held[2] + held[3] <= 1);
#endif
#if CANARY == 1
		assert(H.t < TMAX);
#elif CANARY == 2
		assert(!H.used_rec);
#elif CANARY == 3
		assert(!H.raised);
#endif
		H.pc = P_HOLD; H.acks = 0; H.progs = 0; H.used_rec = 0; H.raised = 0
	:: else ->
		printf("MSC: host %d.%d commit: %d acks, value %d.%d: does not hold\n",
		       p, gen[p], H.acks, VOWN(H.best_inp), VGEN(H.best_inp));
		RESET_ATTEMPT(p)
	fi
}

/* ---- the host: one transition per sector I/O --------------------------------------------- */

/*
 * Each step is one do-option: an atomic choice of the next disk operation (dk, op) among the
 * disks that are due, then the operation itself and, after the step's last disk, the decision,
 * in one d_step written once for all disks.
 */
#define STEP0_OPT(x)                                                                           \
	:: PROG(x) == 0 && ORD_W(x) -> dk = x; op = OP_IO                                   \
	:: PROG(x) == 0 && ORD_W(x) && H.nread > 0 && L[x].lver == H.cur_lver &&               \
	   L[x].val != H.cur_val -> dk = x; op = OP_TAKE                                       \
	:: PROG(x) == 0 && ORD_W(x) && CAN_FAIL -> dk = x; op = OP_FAIL

#define PHASE_OPT(x)                                                                           \
	:: PROG(x) == 0 && ORD_W(x) -> dk = x; op = OP_IO                                   \
	:: PROG(x) == 0 && ORD_W(x) && CAN_FAIL -> dk = x; op = OP_FAIL                        \
	:: PROG(x) == 1 && ORD_R(x) && CAN_FAIL -> dk = x; op = OP_FAIL                        \
	:: PROG(x) >= 1 && PROG(x) < N && ORD_R(x) -> dk = x; op = OP_READ

/* commit, release, RECOVERY 2 re-read: one operation per disk */
#define ONCE_OPT(x)                                                                            \
	:: PROG(x) == 0 && ORD_W(x) -> dk = x; op = OP_IO                                   \
	:: PROG(x) == 0 && ORD_W(x) && CAN_FAIL -> dk = x; op = OP_FAIL

/* ---- the adversary: crashes and damaged sectors (process 0) ------------------------------ */

#define CRASH(h)                                                                               \
	:: d_step { crash_left > 0 && !crashed[h] -> crash_left--; crashed[h] = true;          \
		held[h] = false; RESET_ALL(h); HS(h).pc = P_CRASHED;                           \
		printf("MSC: host %d.%d crashes\n", h, gen[h]) }
#define DAMAGE1(x, h)                                                                          \
	:: d_step { dmg_left > 0 && B[IX(x, h)].lver != 0 && !B[IX(x, h)].dmg ->               \
		dmg_left--; B[IX(x, h)].dmg = 1; printf("MSC: B[%d][%d] damaged\n", x, h) }
#if N == 2
#define DAMAGE_DISK(x) DAMAGE1(x, 1) DAMAGE1(x, 2)
#else
#define DAMAGE_DISK(x) DAMAGE1(x, 1) DAMAGE1(x, 2) DAMAGE1(x, 3)
#endif

active proctype adversary()
{
end_adversary:
	do
	CRASH(1)
	CRASH(2)
#if N == 3
	CRASH(3)
#endif
	FOR_DISKS(DAMAGE_DISK)
	od
}

/* ---- the hosts (processes 1..N) ---------------------------------------------------------- */

active [N] proctype host()
{
	byte dk;	/* scratch, 0 between transitions: the disk of this transition */
	byte op;	/* scratch: what to do on it (OP_...) */
	byte q;		/* scratch: a host */
	bool ok;	/* scratch */

end_host:
	do
	:: atomic { H.pc == P_READ0 ->
		if
		FOR_DISKS(STEP0_OPT)
		fi;
		d_step {
			if
			:: op == OP_FAIL -> FAIL_ONE; SET_PROG(dk, FAILED)
			:: else -> SET_PROG(dk, 1); read_own(dk); read_leader(dk)
			fi;
			if
			:: ALL_DONE -> read0_end()
			:: else -> skip
			fi;
			dk = 0; op = 0
		} }
	:: d_step { H.pc == P_DECIDE0 -> read0_done() }
	:: atomic { H.pc == P_PHASE ->
		if
		FOR_DISKS(PHASE_OPT)
		fi;
		d_step {
			if
			:: op == OP_IO -> SET_PROG(dk, 1); write_block(dk)
			:: op == OP_FAIL -> FAIL_ONE; SET_PROG(dk, FAILED)
			:: op == OP_READ -> read_block(dk)
			fi;
			if
			:: H.pc == P_PHASE && ALL_READ -> phase_end()
			:: else -> skip
			fi;
			dk = 0; op = 0
		} }
	:: d_step { H.pc == P_DECIDE -> phase_done() }
#if RECOVERY == 2
	:: atomic { H.pc == P_REREAD ->
		if
		FOR_DISKS(ONCE_OPT)
		fi;
		d_step {
			if
			:: op == OP_IO && L[dk].lver >= H.t -> RESET_ATTEMPT(p)
			:: op == OP_IO && L[dk].lver < H.t -> SET_PROG(dk, 1)
			:: op == OP_FAIL -> FAIL_ONE; RESET_ATTEMPT(p)
			fi;
			if
			:: H.pc == P_REREAD && ALL_DONE -> phase_next()
			:: else -> skip
			fi;
			dk = 0; op = 0
		} }
#endif
	:: atomic { H.pc == P_COMMIT ->
		if
		FOR_DISKS(ONCE_OPT)
		fi;
		d_step {
			if
			:: op == OP_IO && NOREGRESS && L[dk].lver > H.t -> SET_PROG(dk, FAILED)
			:: op == OP_IO && !(NOREGRESS && L[dk].lver > H.t) ->
				SET_PROG(dk, 1); H.acks++; L[dk].lver = H.t; L[dk].val = H.best_inp;
				printf("MSC: host %d.%d writes L[%d] = (lver %d, owner %d.%d)\n",
				       p, gen[p], dk, H.t, VOWN(H.best_inp), VGEN(H.best_inp))
			:: op == OP_FAIL -> FAIL_ONE; SET_PROG(dk, FAILED)
			fi;
			if
			:: ALL_DONE -> commit_done()
			:: else -> skip
			fi;
			dk = 0; op = 0
		} }
#if RELEASE
	:: d_step { H.pc == P_HOLD -> held[p] = false; H.pc = P_RELEASE;
		printf("MSC: host %d.%d releases\n", p, gen[p]) }
	:: atomic { H.pc == P_RELEASE ->
		if
		FOR_DISKS(ONCE_OPT)
		fi;
		d_step {
			if
			:: op == OP_IO && NOREGRESS && L[dk].lver > H.t -> SET_PROG(dk, FAILED)
			:: op == OP_IO && !(NOREGRESS && L[dk].lver > H.t) ->
				SET_PROG(dk, 1); L[dk].lver = H.t; L[dk].val = 0;
				printf("MSC: host %d.%d writes L[%d] = (lver %d, free)\n",
				       p, gen[p], dk, H.t)
			:: op == OP_FAIL -> FAIL_ONE; SET_PROG(dk, FAILED)
			fi;
			if
			:: ALL_DONE -> RESET_ATTEMPT(p)
			:: else -> skip
			fi;
			dk = 0; op = 0
		} }
#endif
	:: d_step { RESTART && H.pc == P_CRASHED -> gen[p]++; crashed[p] = false; H.pc = P_READ0;
		printf("MSC: host %d restarts as %d.%d\n", p, p, gen[p]) }
	od
}
