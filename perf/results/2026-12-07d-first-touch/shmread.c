#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  size_t sz=(size_t)atol(argv[1])<<20; int passes=atoi(argv[2]);
  int fd=shm_open("/shmread_test",O_CREAT|O_RDWR,0600); shm_unlink("/shmread_test");
  if(ftruncate(fd,sz)){perror("ftruncate");return 1;}
  char*p=mmap(0,sz,PROT_READ|PROT_WRITE,MAP_SHARED,fd,0);
  double t=now(); madvise(p,sz,MADV_POPULATE_WRITE); printf("populate_write %.3f s\n",now()-t);
  for(int k=0;k<3;k++){t=now(); memset(p,7+k,sz); printf("memset pass %.3f s (%.2f GB/s)\n",now()-t,sz/1e9/(now()-t));}
  char*q=mmap(0,sz,PROT_READ,MAP_SHARED,fd,0); t=now(); madvise(q,sz,MADV_POPULATE_READ); printf("second mapping populate_read %.3f s\n",now()-t);
  char buf[49152]; size_t n=sz/49152;
  for(int r=0;r<passes;r++){ t=now(); unsigned long s=0;
    for(size_t i=0;i<n;i++){ size_t j=(i*2654435761u)%n; memcpy(buf,q+j*49152,49152); __asm__ volatile("" ::"r"(buf):"memory"); s+=buf[100]; }
    double d=now()-t; printf("read pass %d: %.3f s (%.2f GB/s) %lu\n",r,d,sz/1e9/d,s%7); fflush(stdout); }
  for(int r=0;r<2;r++){ t=now(); unsigned long s=0;
    for(size_t i=0;i<n;i++){ size_t j=(i*2654435761u)%n; memcpy(buf,p+j*49152,49152); __asm__ volatile("" ::"r"(buf):"memory"); s+=buf[100]; }
    printf("read via first mapping pass %d: %.3f s\n",r,now()-t); }
  munmap(q,sz); char*q2=mmap(0,sz,PROT_READ,MAP_SHARED,fd,0); t=now(); madvise(q2,sz,MADV_POPULATE_READ); printf("third mapping populate_read %.3f s\n",now()-t);
  for(int r=0;r<2;r++){ t=now(); unsigned long s=0;
    for(size_t i=0;i<n;i++){ size_t j=(i*2654435761u)%n; memcpy(buf,q2+j*49152,49152); __asm__ volatile("" ::"r"(buf):"memory"); s+=buf[100]; }
    printf("read via third mapping pass %d: %.3f s\n",r,now()-t); }
  return 0;}
