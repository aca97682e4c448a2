// Exhaustive check that the lower triangle of A A^T for a 2x2 A has tensor rank 6 over GF(2)
// (the standard algorithm's 6; docs/fmm.md, "Structured products"). The tensor has three
// slices (c11, c21, c22) in F2^{4x4} (rows: a-entry of the first factor, columns: a-entry of
// the second, entries a11 a12 a21 a22 = bits 0-3). Rank <= 5 iff some 5-dimensional space of
// matrices containing the slices is spanned by rank-one matrices; every such space is the
// span of the slices and two more matrices X, Y from a complement, so all pairs are tried.
// Build: cc -O2 aat_222_rank6_check.c && ./a.out  (prints 0 spaces; 3 s). Cutting c22's slice
// to one term (a tensor of rank <= 5) makes it find such spaces, which checks the checker.
#include <stdio.h>
#include <stdint.h>
static int rank1(unsigned m){ if(!m) return 0; unsigned r=0; for(int i=0;i<4;i++){unsigned x=(m>>(4*i))&15; if(x){ if(r&&x!=r) return 0; r=x;}} return 1;}
static int gf2rank(unsigned *v,int n){ int r=0; for(int b=15;b>=0;b--){ int p=-1; for(int i=r;i<n;i++) if(v[i]>>b&1){p=i;break;} if(p<0) continue; unsigned t=v[p]; v[p]=v[r]; v[r]=t; for(int i=0;i<n;i++) if(i!=r && (v[i]>>b&1)) v[i]^=v[r]; r++; } return r;}
int main(){
  unsigned S[3]={1u|1u<<5, 1u<<8|1u<<13, 1u<<10|1u<<15};
  unsigned V[8]; for(int c=0;c<8;c++){unsigned x=0; for(int k=0;k<3;k++) if(c>>k&1) x^=S[k]; V[c]=x;}
  int comp[13], nc=0; for(int b=0;b<16;b++) if(b!=0&&b!=8&&b!=10) comp[nc++]=b;
  long found=0;
  for(unsigned cx=1;cx<(1u<<13);cx++){ unsigned X=0; for(int k=0;k<13;k++) if(cx>>k&1) X|=1u<<comp[k];
    for(unsigned cy=cx+1;cy<(1u<<13);cy++){ unsigned Y=0; for(int k=0;k<13;k++) if(cy>>k&1) Y|=1u<<comp[k];
      unsigned ones[32]; int n=0;
      for(int a=0;a<4;a++) for(int c=0;c<8;c++){ unsigned m=V[c]^((a&1)?X:0)^((a&2)?Y:0); if(rank1(m)) ones[n++]=m; }
      if(n>=5 && gf2rank(ones,n)==5){ found++; if(found==1) printf("rank <= 5: X=%04x Y=%04x\n",X,Y);} } }
  printf("subspaces with a rank-one basis: %ld\n",found);
  return 0; }
