# PyTorch with two GPUs under bitfusion run -n 2 on the emulated server: both seen, distinct addresses, no
# peer access, and tensors copied from one GPU to the other (through the host) arrive whole.
import sys
import torch

def check(condition, what):
    if not condition:
        print("FAILED: " + what, flush=True)
        sys.exit(1)

check(torch.cuda.device_count() == 2, "two CUDA devices")
check(not torch.cuda.can_device_access_peer(0, 1), "no peer access between remote GPUs")
data = torch.randn(1 << 20)
on0 = data.to("cuda:0")
on1 = on0.to("cuda:1")
check(on0.data_ptr() != on1.data_ptr(), "distinct device addresses")
check(torch.equal(on1.cpu(), data), "a copy from GPU 0 to GPU 1")
check(torch.equal(on1.to("cuda:0").cpu(), data), "and back")
print("pytorch_two_gpus: PASSED", flush=True)
