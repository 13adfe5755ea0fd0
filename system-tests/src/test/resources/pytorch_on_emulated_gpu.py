# PyTorch on the emulated GPU through our libcuda.so.1. PyTorch's wheels carry machine code only, which
# the emulated GPU cannot run, so this checks everything short of a kernel: start-up with its hundreds of
# lazily loaded libraries, the device and its slice, allocation, copies with their content, pinned memory,
# streams and events, cuDNN's handle (mapped memory), and that a kernel fails with the reason.
import sys
import torch

def check(condition, what):
    if not condition:
        print("FAILED: " + what, flush=True)
        sys.exit(1)

check(torch.cuda.is_available() and torch.cuda.device_count() == 1, "one CUDA device")
properties = torch.cuda.get_device_properties(0)
check(properties.name == "Bitfusion Emulated GPU", "device name " + properties.name)
check(properties.total_memory == int(sys.argv[1]) << 20, "total memory %d, the slice" % properties.total_memory)
data = torch.randint(0, 255, (8 << 20,), dtype=torch.uint8)
check(torch.equal(data.cuda().cpu(), data), "a synchronous round trip")
pinned, back = data.pin_memory(), torch.empty_like(data).pin_memory()
stream = torch.cuda.Stream()
start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
with torch.cuda.stream(stream):
    start.record()
    on_gpu = pinned.to("cuda", non_blocking=True)
    copy = on_gpu.clone()
    back.copy_(copy, non_blocking=True)
    end.record()
end.synchronize()
check(torch.equal(back, data), "pinned copies on a stream, and a device-to-device copy")
check(start.elapsed_time(end) >= 0, "event timing")
free, total = torch.cuda.mem_get_info()
check(total == properties.total_memory and free < total, "memory information of the slice")
import torch.backends.cudnn
check(torch.backends.cudnn.version() > 0, "cuDNN loads")
try:
    (on_gpu + 1).cpu()
    check(False, "a kernel without machine code for the emulated GPU ran")
except RuntimeError as error:
    check("no kernel image is available" in str(error), "the kernel's failure says why: " + str(error))
print("pytorch_on_emulated_gpu: PASSED", flush=True)
