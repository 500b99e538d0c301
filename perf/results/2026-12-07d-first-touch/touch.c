#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){ size_t sz=(size_t)atol(argv[1])<<20; int mode=atoi(argv[2]);
  double t=now(); char*p=mmap(0,sz,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0);
  if(mode==0) madvise(p,sz,MADV_POPULATE_WRITE);
  if(mode==1) for(size_t i=0;i<sz;i+=4096) p[i]=0;
  if(mode==2) for(size_t i=0;i<sz;i+=4096) p[i]=1;
  if(mode==3) { madvise(p,sz,MADV_POPULATE_WRITE); for(size_t i=0;i<sz;i+=4096) p[i]=1; }
  printf("mode %d prefault %.3f s\n",mode,now()-t);
  for(int k=0;k<2;k++){ t=now(); memset(p,k+3,sz); double d=now()-t; printf("  memset %.3f s (%.1f GB/s)\n",d,sz/1e9/d);} }
