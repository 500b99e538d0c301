#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){ size_t sz=(size_t)atol(argv[1])<<20; int gap=atoi(argv[2]);
  char*p=mmap(0,sz,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS|MAP_POPULATE,-1,0);
  for(int k=0;k<8;k++){ double t=now(); memset(p,k,sz); double d=now()-t; printf("t+%ds memset %.3f s (%.1f GB/s)\n",k*gap,d,sz/1e9/d); fflush(stdout); sleep(gap);} }
