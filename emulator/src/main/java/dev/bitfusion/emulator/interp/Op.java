package dev.bitfusion.emulator.interp;

/**
 * Opcodes of decoded instructions and the codes they carry in their operand slots.
 * <p>
 * Each instruction occupies {@link #STRIDE} ints: the opcode, then up to seven operands that are mostly
 * register-file slots (immediates live in constant slots, so every source is a slot).
 */
final class Op
{
    static final int STRIDE = 8;

    static final int NOP = 0;
    static final int MOV = 1;
    static final int PACK64 = 2;
    static final int UNPACK64 = 3;
    static final int PACK32 = 4;
    static final int UNPACK32 = 5;
    static final int MOV_FRAME = 6;
    static final int CLOCK = 7;
    static final int GLOBALTIMER = 8;
    static final int EXT16_S = 9;
    static final int EXT16_U = 10;
    static final int EXT32_U = 11;

    static final int ADD_I32 = 20;
    static final int SUB_I32 = 21;
    static final int MUL_LO_I32 = 22;
    static final int MUL_HI_S32 = 23;
    static final int MUL_HI_U32 = 24;
    static final int MUL_WIDE_S32 = 25;
    static final int MUL_WIDE_U32 = 26;
    static final int MAD_LO_I32 = 27;
    static final int MAD_HI_S32 = 28;
    static final int MAD_HI_U32 = 29;
    static final int MAD_WIDE_S32 = 30;
    static final int MAD_WIDE_U32 = 31;
    static final int DIV_S32 = 32;
    static final int DIV_U32 = 33;
    static final int REM_S32 = 34;
    static final int REM_U32 = 35;
    static final int MIN_S32 = 36;
    static final int MIN_U32 = 37;
    static final int MAX_S32 = 38;
    static final int MAX_U32 = 39;
    static final int ABS_S32 = 40;
    static final int NEG_I32 = 41;
    static final int SHL_32 = 42;
    static final int SHR_U32 = 43;
    static final int SHR_S32 = 44;
    static final int POPC_32 = 45;
    static final int CLZ_32 = 46;
    static final int BREV_32 = 47;
    static final int BFE_U32 = 48;
    static final int BFE_S32 = 49;
    static final int BFI_32 = 50;
    static final int PRMT = 51;
    static final int SAD_S32 = 52;
    static final int SAD_U32 = 53;
    static final int SHF = 54;
    static final int BFIND = 55;
    static final int ADD_SAT_S32 = 56;
    static final int SUB_SAT_S32 = 57;

    static final int ADD_I64 = 60;
    static final int SUB_I64 = 61;
    static final int MUL_LO_I64 = 62;
    static final int MUL_HI_S64 = 63;
    static final int MUL_HI_U64 = 64;
    static final int MAD_LO_I64 = 65;
    static final int DIV_S64 = 66;
    static final int DIV_U64 = 67;
    static final int REM_S64 = 68;
    static final int REM_U64 = 69;
    static final int MIN_S64 = 70;
    static final int MIN_U64 = 71;
    static final int MAX_S64 = 72;
    static final int MAX_U64 = 73;
    static final int ABS_S64 = 74;
    static final int NEG_I64 = 75;
    static final int SHL_64 = 76;
    static final int SHR_U64 = 77;
    static final int SHR_S64 = 78;
    static final int POPC_64 = 79;
    static final int CLZ_64 = 80;
    static final int BREV_64 = 81;
    static final int BFE_U64 = 82;
    static final int BFE_S64 = 83;
    static final int BFI_64 = 84;
    static final int MAD_HI_S64 = 85;
    static final int MAD_HI_U64 = 86;

    static final int AND = 90;
    static final int OR = 91;
    static final int XOR = 92;
    static final int NOT = 93;
    static final int CNOT = 94;
    static final int PRED_NOT = 95;
    static final int PRED_AND = 96;
    static final int PRED_OR = 97;
    static final int PRED_XOR = 98;

    static final int ADD_F32 = 100;
    static final int SUB_F32 = 101;
    static final int MUL_F32 = 102;
    static final int FMA_F32 = 103;
    static final int DIV_F32 = 104;
    static final int MIN_F32 = 105;
    static final int MAX_F32 = 106;
    static final int ABS_F32 = 107;
    static final int NEG_F32 = 108;
    static final int SQRT_F32 = 109;
    static final int RSQRT_F32 = 110;
    static final int RCP_F32 = 111;
    static final int SIN_F32 = 112;
    static final int COS_F32 = 113;
    static final int LG2_F32 = 114;
    static final int EX2_F32 = 115;
    static final int TANH_F32 = 116;
    static final int SAT_F32 = 117;
    static final int COPYSIGN_F32 = 118;
    static final int TESTP_F32 = 119;

    static final int ADD_F64 = 130;
    static final int SUB_F64 = 131;
    static final int MUL_F64 = 132;
    static final int FMA_F64 = 133;
    static final int DIV_F64 = 134;
    static final int MIN_F64 = 135;
    static final int MAX_F64 = 136;
    static final int ABS_F64 = 137;
    static final int NEG_F64 = 138;
    static final int SQRT_F64 = 139;
    static final int RSQRT_F64 = 140;
    static final int RCP_F64 = 141;
    static final int SAT_F64 = 142;
    static final int COPYSIGN_F64 = 143;
    static final int TESTP_F64 = 144;

    static final int SETP = 150;
    static final int SET = 151;
    static final int SELP = 152;
    static final int CVT = 153;
    static final int SLCT = 154;
    static final int HALF_ARITH = 155;
    static final int CARRY_ARITH = 156;

    static final int CARRY_ADD = 0;
    static final int CARRY_SUB = 1;
    static final int CARRY_MAD_LO = 2;
    static final int CARRY_MAD_HI = 3;

    static final int LDG_32 = 160;
    static final int LDG_64 = 161;
    static final int STG_32 = 162;
    static final int STG_64 = 163;
    static final int LD = 164;
    static final int ST = 165;
    static final int ATOM = 166;
    static final int ISSPACEP = 167;

    static final int BRA = 180;
    static final int BRA_IF = 181;
    static final int BRA_IFNOT = 182;
    static final int CALL = 183;
    static final int RET = 184;
    static final int EXIT = 185;
    static final int TRAP = 186;
    static final int VPRINTF = 187;
    static final int ASSERTFAIL = 188;

    static final int BAR = 200;
    static final int SHFL = 201;
    static final int VOTE = 202;
    static final int ACTIVEMASK = 203;
    static final int REDUX = 204;
    static final int MATCH = 205;

    static final int SPACE_GLOBAL = 0;
    static final int SPACE_SHARED = 1;
    static final int SPACE_LOCAL = 2;
    static final int SPACE_FRAME = 3;
    static final int SPACE_KPARAM = 4;
    static final int SPACE_GENERIC = 5;

    static final int SIZE_U8 = 0;
    static final int SIZE_S8 = 1;
    static final int SIZE_U16 = 2;
    static final int SIZE_S16 = 3;
    static final int SIZE_32 = 4;
    static final int SIZE_64 = 5;

    static final int T_U8 = 0;
    static final int T_S8 = 1;
    static final int T_U16 = 2;
    static final int T_S16 = 3;
    static final int T_U32 = 4;
    static final int T_S32 = 5;
    static final int T_U64 = 6;
    static final int T_S64 = 7;
    static final int T_F16 = 8;
    static final int T_BF16 = 9;
    static final int T_F32 = 10;
    static final int T_F64 = 11;
    static final int T_PRED = 12;

    static final int CMP_EQ = 0;
    static final int CMP_NE = 1;
    static final int CMP_LT = 2;
    static final int CMP_LE = 3;
    static final int CMP_GT = 4;
    static final int CMP_GE = 5;
    static final int CMP_EQU = 6;
    static final int CMP_NEU = 7;
    static final int CMP_LTU = 8;
    static final int CMP_LEU = 9;
    static final int CMP_GTU = 10;
    static final int CMP_GEU = 11;
    static final int CMP_NUM = 12;
    static final int CMP_NAN = 13;

    static final int RND_NONE = 0;
    static final int RND_RN = 1;
    static final int RND_RZ = 2;
    static final int RND_RM = 3;
    static final int RND_RP = 4;
    static final int RND_RNI = 5;
    static final int RND_RZI = 6;
    static final int RND_RMI = 7;
    static final int RND_RPI = 8;

    static final int ATOM_ADD = 0;
    static final int ATOM_MIN = 1;
    static final int ATOM_MAX = 2;
    static final int ATOM_INC = 3;
    static final int ATOM_DEC = 4;
    static final int ATOM_CAS = 5;
    static final int ATOM_EXCH = 6;
    static final int ATOM_AND = 7;
    static final int ATOM_OR = 8;
    static final int ATOM_XOR = 9;

    static final int SHFL_UP = 0;
    static final int SHFL_DOWN = 1;
    static final int SHFL_BFLY = 2;
    static final int SHFL_IDX = 3;

    static final int VOTE_ALL = 0;
    static final int VOTE_ANY = 1;
    static final int VOTE_UNI = 2;
    static final int VOTE_BALLOT = 3;

    static final int BAR_SYNC = 0;
    static final int BAR_RED_POPC = 1;
    static final int BAR_RED_AND = 2;
    static final int BAR_RED_OR = 3;
    static final int BAR_ARRIVE = 4;

    /** Special registers are the first slots of every register file, filled per thread. */
    static final int SLOT_TID_X = 0;
    static final int SLOT_TID_Y = 1;
    static final int SLOT_TID_Z = 2;
    static final int SLOT_NTID_X = 3;
    static final int SLOT_NTID_Y = 4;
    static final int SLOT_NTID_Z = 5;
    static final int SLOT_CTAID_X = 6;
    static final int SLOT_CTAID_Y = 7;
    static final int SLOT_CTAID_Z = 8;
    static final int SLOT_NCTAID_X = 9;
    static final int SLOT_NCTAID_Y = 10;
    static final int SLOT_NCTAID_Z = 11;
    static final int SLOT_LANEID = 12;
    static final int SLOT_WARPID = 13;
    static final int SLOT_NWARPID = 14;
    static final int SLOT_SMID = 15;
    static final int SLOT_NSMID = 16;
    static final int SLOT_GRIDID = 17;
    static final int SLOT_LANEMASK_EQ = 18;
    static final int SLOT_LANEMASK_LT = 19;
    static final int SLOT_LANEMASK_LE = 20;
    static final int SLOT_LANEMASK_GT = 21;
    static final int SLOT_LANEMASK_GE = 22;
    static final int SLOT_DYNAMIC_SHARED_BASE = 23;
    static final int SLOT_DYNAMIC_SMEM_SIZE = 24;
    static final int SLOT_TOTAL_SMEM_SIZE = 25;
    static final int SLOT_CARRY = 26;
    static final int SLOT_RESERVED_SHARED = 27;
    static final int SPECIAL_SLOTS = 28;

    /** Shared bytes reserved after the dynamic area for cooperative groups ({@code %reserved_smem_offset_*}). */
    static final int RESERVED_SHARED_BYTES = 64;

    /** Generic addresses of the shared window: the shared offset plus this. */
    static final long SHARED_WINDOW = 0x0000_1000_0000_0000L;
    /** Generic addresses of the local window: the offset in the thread's stack plus this. */
    static final long LOCAL_WINDOW = 0x0000_2000_0000_0000L;
    /** Addresses of kernel parameters when a kernel takes one's address. */
    static final long PARAM_WINDOW = 0x0000_3000_0000_0000L;
    static final long WINDOW_SIZE = 0x0000_0001_0000_0000L;

    private Op()
    {
    }
}
