// Warp votes: ballot, any, all and the active mask, on a predicate that varies per lane.
extern "C" __global__ void warpVote(const int *in, unsigned int *ballots, int *anyAll, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    int predicate = i < n && (in[i] & 1);
    unsigned int ballot = __ballot_sync(0xffffffffu, predicate);
    int any = __any_sync(0xffffffffu, predicate);
    int all = __all_sync(0xffffffffu, predicate);
    if ((threadIdx.x & 31) == 0)
    {
        int warp = i >> 5;
        ballots[warp] = ballot;
        anyAll[2 * warp] = any;
        anyAll[2 * warp + 1] = all;
    }
}
