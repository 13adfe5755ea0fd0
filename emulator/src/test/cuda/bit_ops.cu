// Integer and bit instructions, pinned with inline PTX where nvcc would otherwise choose its own:
// bfe (signed and unsigned), bfi, prmt with sign replication, funnel shifts, mul.hi, sad, ffs,
// 64-bit popc/clz/brev, min/max/abs, and saturating float-to-integer conversions.
extern "C" __global__ void bitOps(const unsigned int *a, const unsigned int *b, const float *f, unsigned int *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
    {
        return;
    }

    unsigned int x = a[i];
    unsigned int y = b[i];
    unsigned int pos = y & 31u;
    unsigned int len = (y >> 8) & 31u;
    unsigned int r;
    int s;
    unsigned int *o = out + 16 * i;

    asm("bfe.u32 %0, %1, %2, %3;" : "=r"(r) : "r"(x), "r"(pos), "r"(len));
    o[0] = r;
    asm("bfe.s32 %0, %1, %2, %3;" : "=r"(s) : "r"((int)x), "r"(pos), "r"(len));
    o[1] = (unsigned int)s;
    asm("bfi.b32 %0, %1, %2, %3, %4;" : "=r"(r) : "r"(y), "r"(x), "r"(pos), "r"(len));
    o[2] = r;
    asm("prmt.b32 %0, %1, %2, %3;" : "=r"(r) : "r"(x), "r"(y), "r"((y >> 16) & 0xffffu));
    o[3] = r;
    o[4] = __funnelshift_l(x, y, pos);
    o[5] = __funnelshift_rc(x, y, len);
    o[6] = __umulhi(x, y);
    o[7] = (unsigned int)__mulhi((int)x, (int)y);
    o[8] = __usad(x, y, 7u);
    o[9] = (unsigned int)__ffs((int)(x & y));

    unsigned long long wide = ((unsigned long long)x << 32) | y;
    o[10] = (unsigned int)__popcll(wide) + ((unsigned int)__clzll(wide >> (pos + 1)) << 8);
    o[11] = (unsigned int)(__brevll(wide) >> 16);
    o[12] = (unsigned int)(max((int)x, (int)y) - min(abs((int)x), abs((int)y)));

    float v = f[i];
    o[13] = (unsigned int)__float2int_rn(v);
    o[14] = __float2uint_rz(v);
    o[15] = (unsigned int)(unsigned char)__float2uint_rn(__saturatef(v) * 255.0f) | ((unsigned int)(long long)truncf(v) << 8);
}
