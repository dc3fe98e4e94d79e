#!/usr/bin/env python3
"""Instructions one call of a function executes, by kind and by source line,
counted by stepping it in gdb. valgrind cannot decode AVX-512 and a virtual
machine may have no performance counters; stepping works on any x86-64
target (the return address is read from the stack at entry; a call of a
few thousand instructions takes seconds). Calls into other functions are
stepped too and counted with the caller.

    python3 bench/checks/step_instructions.py BINARY REGEX [--hit N] [--lines K] -- ARGS...

REGEX picks the function among the binary's (mangled) symbols: the first
match is used (how many matched is printed). The count starts at the N-th entry
into it (default 3, past the first calls' cold paths) and ends when it
returns. --lines K also prints the K source lines (innermost tapeless frame
first, inlined frames joined by '<') that execute the most instructions.
Build the binary with -g for lines. Example, W1's training step of
bench/checks/batch1_quiet.cpp built with -g -march=native:

    python3 bench/checks/step_instructions.py ./batch1_quiet \\
        '^_ZN8tapeless7programINS_4nodeINS_9reduce_opINS_13sum_reductionENS_5shapeIJLm1ELm1E.*runI' \\
        --lines 20 -- only "w1_train_b1 tapeless" 10
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

GDB_SCRIPT = r'''
import collections, gdb

def tapeless_frames(frame):
    out = []
    f = frame
    while f is not None:
        sal = f.find_sal()
        if sal.symtab and 'tapeless/' in sal.symtab.filename:
            out.append(sal.symtab.filename.split('include/')[-1] + ':' + str(sal.line))
        if f.type() != gdb.INLINE_FRAME:
            break
        f = f.older()
    return ' < '.join(out[:3]) or '(outside tapeless)'

def count(offset, hits, want_lines):
    gdb.execute('set pagination off')
    gdb.execute('starti', to_string=True)
    binary = gdb.current_progspace().filename
    base = None
    for line in gdb.execute('info proc mappings', to_string=True).splitlines():
        parts = line.split()
        if parts and parts[-1] == binary and parts[0].startswith('0x'):
            base = int(parts[0], 16)
            break
    # A binary built without -pie is mapped at its link address.
    address = offset + (base if base is not None and base > offset else 0)
    gdb.execute('break *0x%x' % address, to_string=True)
    gdb.execute('continue', to_string=True)
    for _ in range(hits - 1):
        gdb.execute('continue', to_string=True)
    frame = gdb.selected_frame()
    arch = frame.architecture()
    rsp = int(frame.read_register('rsp'))
    ret = int.from_bytes(gdb.selected_inferior().read_memory(rsp, 8).tobytes(), 'little')
    kinds = collections.Counter()
    lines = collections.Counter()
    total = 0
    while True:
        frame = gdb.selected_frame()
        pc = int(frame.pc())
        if pc == ret:
            break
        kind = arch.disassemble(pc)[0]['asm'].split()[0]
        kinds[kind] += 1
        total += 1
        if want_lines:
            lines[tapeless_frames(frame)] += 1
        gdb.execute('stepi', to_string=True)
    print('RESULT total %d' % total)
    print('RESULT kinds ' + ', '.join('%s %d' % kv for kv in kinds.most_common()))
    for where, n in lines.most_common(want_lines):
        print('RESULT line %6d  %s' % (n, where))
    gdb.execute('kill', to_string=True)
'''


def main():
    if '--' in sys.argv:
        split = sys.argv.index('--')
        ours, program_args = sys.argv[1:split], sys.argv[split + 1:]
    else:
        ours, program_args = sys.argv[1:], []
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('binary')
    ap.add_argument('regex', help='regular expression over mangled symbol names')
    ap.add_argument('--hit', type=int, default=3, help='count the N-th call (default 3)')
    ap.add_argument('--lines', type=int, default=0, help='also print the K busiest source lines')
    args = ap.parse_args(ours)

    symbols = subprocess.run(['nm', args.binary], capture_output=True, text=True, check=True).stdout.splitlines()
    pattern = re.compile(args.regex)
    matches = [(int(s.split()[0], 16), s.split()[2]) for s in symbols
               if len(s.split()) == 3 and s.split()[1] in 'tTwW' and pattern.search(s.split()[2])]
    if not matches:
        sys.exit(f'step_instructions: no function of {args.binary} matches {args.regex!r}')
    offset, name = matches[0]
    print(f'function: {name[:160]}{"..." if len(name) > 160 else ""} (of {len(matches)} matching)')

    with tempfile.NamedTemporaryFile('w', suffix='.py', delete=False) as script:
        script.write(GDB_SCRIPT)
    try:
        out = subprocess.run(['gdb', '-q', '-batch', '-ex', f'source {script.name}',
                              '-ex', f'python count({offset}, {args.hit}, {args.lines})',
                              '--args', args.binary, *program_args],
                             capture_output=True, text=True)
    finally:
        os.unlink(script.name)
    results = [line[len('RESULT '):] for line in out.stdout.splitlines() if line.startswith('RESULT ')]
    if not results:
        sys.exit('step_instructions: gdb gave no count:\n' + out.stdout[-2000:] + out.stderr[-2000:])
    print('\n'.join(results))


if __name__ == '__main__':
    main()
