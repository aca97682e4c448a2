#!/usr/bin/env bash
# cli/test_cli_recommend.sh: end-to-end tests of facto recommend fit/eval/topk: exit codes,
# usage and parse errors, model files, report.json, original ids kept, seen items left out,
# a planted low-rank ratings matrix recovered, eval baselines, implicit ranking metrics.
# Usage: bash cli/test_cli_recommend.sh path/to/facto
set -u

. "$(cd "$(dirname "$0")" && pwd)/testing.sh" "$@"

# --- inputs (awk, so the tests run without NumPy) -------------------------------------------
# A rank-2 planted 60x40 ratings matrix, ~50% observed, string user ids and zero-padded items,
# MovieLens '::' layout with timestamps.
awk 'BEGIN { srand(7); for (u = 1; u <= 60; u++) for (i = 1; i <= 40; i++) if (rand() < 0.5)
    printf "user%d::%07d::%.10g::%d\n", u, i, 3 + sin(u) * cos(i) + 0.5 * cos(2 * u) * sin(3 * i), 1000 + u * 40 + i }' >r.dat
# The same as CSV with a header, columns in another order.
awk -F'::' 'BEGIN { print "timestamp,movieId,rating,userId" } { print $4 "," $2 "," $3 "," $1 }' r.dat >r.csv
# Implicit feedback: two communities, odd users click odd items.
awk 'BEGIN { srand(3); for (u = 1; u <= 80; u++) for (i = 1; i <= 50; i++)
    if (rand() < ((u % 2) == (i % 2) ? 0.35 : 0.03)) printf "u%d\ti%d\t%d\n", u, i, 1 + int(3 * rand()) }' >clicks.tsv
printf 'user,item,rating\na,x,5\na,y,oops\n' >bad.csv

# --- help and usage errors ------------------------------------------------------------------
for c in fit eval topk; do
    run "recommend $c --help" 0 "$FACTO" recommend $c --help
    has "recommend $c --help has a synopsis" out.txt "facto recommend $c"
    has "recommend $c --help has examples" out.txt "EXAMPLES"
done
run "recommend without a command" 2 "$FACTO" recommend
run "fit --rank abc" 2 "$FACTO" recommend fit r.dat --rank abc
has "bad rank says what was found" err.txt "found 'abc'"
run "fit --method bogus" 2 "$FACTO" recommend fit r.dat --method bogus
run "fit sgd with --implicit" 2 "$FACTO" recommend fit clicks.tsv --implicit --method sgd
run "fit --test and --test-fraction" 2 "$FACTO" recommend fit r.dat --test r.dat --test-fraction 0.2
run "fit missing file" 1 "$FACTO" recommend fit missing.dat --out m
run "fit parse error" 1 "$FACTO" recommend fit bad.csv --out m
has "parse error names file and line" err.txt "bad.csv:3:"
has "parse error says what was found" err.txt "'oops'"
run "eval --folds with --split time" 2 "$FACTO" recommend eval r.dat --split time
run "topk without a model" 2 "$FACTO" recommend topk nowhere --user a

# --- fit: planted completion ----------------------------------------------------------------
run "fit explicit ALS" 0 "$FACTO" recommend fit r.dat --rank 2 --reg 1e-9 --bias-reg 1e-9 --iters 60 \
    --test-fraction 0.2 --seed 3 --progress none --out m
files "model files" m user_factors.npy item_factors.npy user_bias.npy item_bias.npy users.txt items.txt \
    seen_indptr.npy seen_indices.npy report.json
json "report: model and history" m/report.json \
    "j['command'] == 'recommend fit' and j['model']['kind'] == 'explicit' and j['model']['rank'] == 2 and len(j['history']) == 60"
json "planted matrix completed (test RMSE < 1e-4)" m/report.json "j['result']['test']['rmse'] < 1e-4"
json "input summary" m/report.json "j['input']['users'] == 60 and j['input']['items'] == 40 and j['input']['timestamps']"
has "user ids kept" m/users.txt "user1"
has "item ids keep leading zeros" m/items.txt "0000001"
numpy "factor shapes match the id lists" "
u = np.load('m/user_factors.npy'); q = np.load('m/item_factors.npy')
assert u.shape == (60, 2) and q.shape == (40, 2)
assert len(open('m/users.txt').read().split()) == 60"
run "fit from CSV with header" 0 "$FACTO" recommend fit r.csv --rank 2 --iters 5 --progress none --out mc
json "csv read the same ratings" mc/report.json "j['input']['ratings'] == $(wc -l <r.dat)"
run "fit sgd" 0 "$FACTO" recommend fit r.dat --method sgd --rank 2 --iters 30 --learning-rate 0.05 --test-fraction 0.2 \
    --progress lines --out ms
has "sgd progress lines" err.txt "test RMSE"
json "sgd beats the spread of the ratings" ms/report.json "j['result']['test']['rmse'] < 0.5"
run "fit with --test file" 0 "$FACTO" recommend fit r.dat --test r.csv --rank 2 --iters 3 --progress none --out mt
json "test file mapped onto the training ids" mt/report.json "j['result']['test']['ratings'] == $(wc -l <r.dat) and j['result']['test']['dropped'] == 0"

# --- topk -----------------------------------------------------------------------------------
run "topk --user" 0 "$FACTO" recommend topk m --user user5 -k 3
has "topk header" out.txt "rank	item	score"
awk -F'::' '$1 == "user5" { print $2 }' r.dat >seen5.txt
if [ "$(tail -n +2 out.txt | cut -f2 | grep -cxFf seen5.txt)" -eq 0 ]; then pass "topk leaves seen items out"; else fail "topk recommended a seen item"; fi
run "topk --keep-seen" 0 "$FACTO" recommend topk m --user user5 -k 40 --keep-seen
if [ "$(tail -n +2 out.txt | wc -l)" -eq 40 ]; then pass "keep-seen ranks every item"; else fail "keep-seen: $(tail -n +2 out.txt | wc -l) items"; fi
run "topk unknown user" 1 "$FACTO" recommend topk m --user nobody
has "unknown user named" err.txt "'nobody'"
run "topk two modes" 2 "$FACTO" recommend topk m --user user5 --similar 0000001
run "topk --all" 0 "$FACTO" recommend topk m --all all.tsv -k 4
if [ "$(tail -n +2 all.tsv | wc -l)" -eq 240 ]; then pass "--all writes 60 x 4 rows"; else fail "--all rows: $(wc -l <all.tsv)"; fi
head -2 all.tsv | tail -1 | grep -q "^user1	1	" && pass "--all names users by id" || fail "--all first row: $(head -2 all.tsv | tail -1)"
run "topk --similar" 0 "$FACTO" recommend topk m --similar 0000007 -k 3
if ! tail -n +2 out.txt | cut -f2 | grep -qx 0000007; then pass "similar leaves the item out"; else fail "similar lists the item itself"; fi
run "topk --like (new user)" 0 "$FACTO" recommend topk m --like 0000001:5,0000002:1 -k 3
if [ "$(tail -n +2 out.txt | wc -l)" -eq 3 ]; then pass "new user gets 3 items"; else fail "new user list"; fi
run "topk --like bad value" 2 "$FACTO" recommend topk m --like 0000001:x
run "topk --like unknown item" 1 "$FACTO" recommend topk m --like nothing

# --- eval -----------------------------------------------------------------------------------
run "eval 3 folds" 0 "$FACTO" recommend eval r.dat --folds 3 --rank 2 --reg 0.001 --bias-reg 0.001 --iters 30 --json ev.json
has "eval prints the global mean" out.txt "global-mean"
has "eval prints the bias-only model" out.txt "bias-only"
json "eval: the planted model beats both baselines" ev.json \
    "j['mean']['als']['RMSE'] < 0.05 * min(j['mean']['bias-only']['RMSE'], j['mean']['global-mean']['RMSE']) and len(j['folds']) == 3"
run "eval time split" 0 "$FACTO" recommend eval r.dat --test-fraction 0.2 --split time --rank 2 --iters 5
run "eval implicit, per-user split" 0 "$FACTO" recommend eval clicks.tsv --implicit --rank 2 --test-fraction 0.2 --split user \
    -k 5 --json evi.json
has "implicit eval prints AUC" out.txt "AUC"
json "implicit ALS ranks better than popularity" evi.json \
    "j['mean']['implicit-als']['AUC'] > j['mean']['popularity']['AUC'] + 0.1 and j['mean']['implicit-als']['nDCG@5'] > j['mean']['popularity']['nDCG@5']"
run "fit bpr" 0 "$FACTO" recommend fit clicks.tsv --method bpr --rank 4 --iters 20 --test-fraction 0.2 --split user \
    --progress none --out mb
json "bpr report has ranking metrics" mb/report.json "j['model']['kind'] == 'implicit' and 0.5 < j['result']['test']['auc'] <= 1"
run "fit implicit cholesky" 0 "$FACTO" recommend fit clicks.tsv --implicit --solver cholesky --rank 3 --progress none --out mi
run "topk implicit --like" 0 "$FACTO" recommend topk mi --like i1,i3,i5 -k 5
odd=$(tail -n +2 out.txt | cut -f2 | sed 's/i//' | awk '$1 % 2 == 1' | wc -l)
if [ "$odd" -ge 4 ]; then pass "new odd-item user gets odd items ($odd of 5)"; else fail "new user got $odd odd items of 5"; fi

finish
