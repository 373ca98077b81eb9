"""numnet's benchmark suite (issue 7): ``python -m benchmarks.run`` regenerates ``BENCHMARKS.md``.

Every (workload, implementation) pair runs in its own child process (``benchmarks.workloads.*``) on data,
initial weights and batch orders generated once by the parent (``benchmarks.run``) and passed in an ``.npz``.
"""
